//! The `stormsim` binary: everything lives in the library's `cli` module.

fn main() {
    std::process::exit(stormsim::cli::main());
}
