//! An active contract as a participant reports it (ExportAcs, the Ledger API's active
//! contract stream), read through plain accessors. The Ledger API message stays inside
//! untouched: an import sends back exactly what the export decoded, with no copy and no
//! conversion per contract, and nothing outside `client` (and the lab, which serves the
//! wire) names a generated type.

use crate::value;
use crate::wire::ledger;

#[derive(Debug, Clone, PartialEq)]
pub struct Contract(ledger::ActiveContract);

impl Contract {
    /// The logical or physical id of the synchronizer the contract is assigned to.
    pub fn synchronizer_id(&self) -> &str {
        &self.0.synchronizer_id
    }

    pub fn reassignment_counter(&self) -> u64 {
        self.0.reassignment_counter
    }

    /// The contract's creation: id, template, parties and arguments. `None` only for an
    /// entry without its created event, which Canton never sends; readers skip those.
    pub fn created(&self) -> Option<Created<'_>> {
        self.0.created_event.as_ref().map(Created)
    }

    /// The contract id, when the created event is there.
    pub fn contract_id(&self) -> Option<&str> {
        self.created().map(|c| c.0.contract_id.as_str())
    }

    /// The Ledger API message, for the lab and its tests, which serve and forge the wire.
    /// The front ends never reach for it (`layering_tests` checks).
    pub fn wire(&self) -> &ledger::ActiveContract {
        &self.0
    }

    pub fn into_wire(self) -> ledger::ActiveContract {
        self.0
    }

    pub fn from_wire(contract: ledger::ActiveContract) -> Contract {
        Contract(contract)
    }
}

/// A contract's created event, borrowed from its [`Contract`].
#[derive(Debug, Clone, Copy)]
pub struct Created<'a>(&'a ledger::CreatedEvent);

impl<'a> Created<'a> {
    pub fn contract_id(&self) -> &'a str {
        &self.0.contract_id
    }

    /// `Module:Entity` (empty when the event names no template).
    pub fn template(&self) -> String {
        self.0
            .template_id
            .as_ref()
            .map(value::qualified_name)
            .unwrap_or_default()
    }

    /// The package of the template, whose vetting decides where the contract can be used.
    pub fn package_id(&self) -> Option<&'a str> {
        self.0.template_id.as_ref().map(|t| t.package_id.as_str())
    }

    pub fn signatories(&self) -> &'a [String] {
        &self.0.signatories
    }

    pub fn observers(&self) -> &'a [String] {
        &self.0.observers
    }

    /// The create arguments in Daml's JSON encoding (`null` when there are none).
    pub fn payload(&self) -> serde_json::Value {
        self.0
            .create_arguments
            .as_ref()
            .map(value::record_to_json)
            .unwrap_or(serde_json::Value::Null)
    }

    /// [`Created::payload`] as a serializer writes it, without building it.
    pub fn arguments_json(&self) -> Option<value::RecordJson<'a>> {
        self.0.create_arguments.as_ref().map(value::RecordJson)
    }
}

/// A created contract for other modules' tests, built without their naming the wire.
#[cfg(test)]
impl Contract {
    pub(crate) fn for_test(
        contract_id: &str,
        (package_id, module_name, entity_name): (&str, &str, &str),
        arguments: ledger::Record,
        signatories: &[&str],
        observers: &[&str],
        synchronizer_id: &str,
    ) -> Contract {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Contract(ledger::ActiveContract {
            created_event: Some(ledger::CreatedEvent {
                contract_id: contract_id.into(),
                template_id: Some(ledger::Identifier {
                    package_id: package_id.into(),
                    module_name: module_name.into(),
                    entity_name: entity_name.into(),
                }),
                create_arguments: Some(arguments),
                signatories: owned(signatories),
                observers: owned(observers),
                ..Default::default()
            }),
            synchronizer_id: synchronizer_id.into(),
            reassignment_counter: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accessors_read_the_created_event() {
        let wire = ledger::ActiveContract {
            created_event: Some(ledger::CreatedEvent {
                contract_id: "00aa".into(),
                template_id: Some(ledger::Identifier {
                    package_id: "pkg".into(),
                    module_name: "Iou".into(),
                    entity_name: "Iou".into(),
                }),
                create_arguments: Some(value::record(vec![("owner", value::party("Bob"))])),
                signatories: vec!["Alice".into()],
                observers: vec!["Bob".into()],
                ..Default::default()
            }),
            synchronizer_id: "lost::1220".into(),
            reassignment_counter: 2,
        };
        let c = Contract::from_wire(wire.clone());
        assert_eq!(c.contract_id(), Some("00aa"));
        assert_eq!(c.synchronizer_id(), "lost::1220");
        assert_eq!(c.reassignment_counter(), 2);
        let created = c.created().expect("created event");
        assert_eq!(created.template(), "Iou:Iou");
        assert_eq!(created.signatories(), ["Alice"]);
        assert_eq!(created.observers(), ["Bob"]);
        assert_eq!(created.payload(), serde_json::json!({"owner": "Bob"}));
        assert_eq!(c.into_wire(), wire, "the message is kept as it came");
        let bare = Contract::from_wire(ledger::ActiveContract::default());
        assert!(bare.created().is_none() && bare.contract_id().is_none());
    }
}
