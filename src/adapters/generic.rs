//! The gateway's own JSON form, as `POST /api/v1/tickets` takes it.

use serde_json::{Value, json};

use super::{AdapterError, Helpdesk, internal_form};
use crate::tickets::TicketInput;

/// Our own form.
pub struct Generic;

impl Helpdesk for Generic {
    fn name(&self) -> &'static str {
        "generic"
    }

    fn ticket(&self, payload: Value) -> Result<TicketInput, AdapterError> {
        internal_form(payload)
    }

    fn update(&self, event_type: &str, data: &Value) -> Option<Value> {
        Some(json!({ "type": event_type, "data": data }))
    }
}
