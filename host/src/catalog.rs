//! Store → rules → channels: reading the store's catalog (`import`), turning a product into
//! a channel's listing draft through that channel's rules (`draft`), creating or updating
//! the listing (`push`) and following the channel's review until it is live (`review`).

pub mod category;
pub mod draft;
pub mod dry_run;
pub mod import;
pub mod link;
pub mod push;
pub mod review;
pub mod webhook;
