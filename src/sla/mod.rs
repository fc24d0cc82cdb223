//! Service levels: business-time arithmetic on a contract's calendar. Pure: no I/O, no clock;
//! callers pass the instants.

pub mod calendar;

pub use calendar::{add_business_time, business_time_between};
