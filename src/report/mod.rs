//! Everything written to disk: CSV tables, the manifest, the charts, and the side-by-side
//! table printed at the end of a run.
//!
//! Every file is written to a temporary name in its directory and renamed into place, so a
//! reader (or a run killed half-way) never sees half a file.

pub mod atomic;
pub mod charts;
pub mod manifest;
pub mod review;
pub mod summary;
pub mod table;
pub mod tables;

pub use atomic::write_atomically;
pub use manifest::Manifest;
pub use summary::SummaryRow;
