//! Helpdesk payloads ⇄ the internal ticket form. One file per helpdesk; adding one is a new
//! file and a line in [`ALL`].

mod generic;
pub mod rt;
pub mod zendesk;

use serde_json::Value;

use crate::json_input::{self, InputProblem};
use crate::tickets::TicketInput;

/// A payload that does not map to a ticket: where and why, never the value sent.
pub type AdapterError = InputProblem;

/// One helpdesk's shapes.
pub trait Helpdesk: Sync {
    /// The name in `POST /api/v1/inbound/{name}`.
    fn name(&self) -> &'static str;

    /// The ticket a payload (an API object or a webhook body) describes.
    fn ticket(&self, payload: Value) -> Result<TicketInput, AdapterError>;

    /// What the helpdesk's API needs to apply an in-house event to its ticket (for example
    /// the body of a ticket update), if the event changes anything there.
    fn update(&self, event_type: &str, data: &Value) -> Option<Value>;
}

/// Every adapter.
pub const ALL: &[&dyn Helpdesk] = &[&generic::Generic, &zendesk::Zendesk, &rt::RequestTracker];

/// The adapter called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn Helpdesk> {
    ALL.iter().copied().find(|a| a.name() == name)
}

/// Reads our own ticket form from a JSON value, naming the field at fault.
fn internal_form(value: Value) -> Result<TicketInput, AdapterError> {
    json_input::from_value(value)
}
