//! Ledger API commands in plain terms: what the lab's scenarios and the post-recovery
//! workflow check submit (creates and exercises with simple Daml values), turned into the
//! Ledger API's messages only when they are sent.

use crate::value;
use crate::wire::ledger;

/// A template by package id, module and entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateId {
    pub package_id: String,
    pub module: String,
    pub entity: String,
}

/// A Daml value, in the shapes the submitted commands use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DamlValue {
    Unit,
    Party(String),
    Text(String),
    /// A Numeric (Decimal) as Daml writes it, e.g. `"100.0"`.
    Numeric(String),
    List(Vec<DamlValue>),
    Record(Vec<(String, DamlValue)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerCommand {
    Create {
        template: TemplateId,
        arguments: Vec<(String, DamlValue)>,
    },
    Exercise {
        template: TemplateId,
        contract_id: String,
        choice: String,
        argument: DamlValue,
    },
}

/// One SubmitAndWait: the commands of one transaction, submitted as `act_as`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Submission {
    pub act_as: Vec<String>,
    /// The synchronizer to submit to; `None` lets the participant choose.
    pub synchronizer_id: Option<String>,
    pub commands: Vec<LedgerCommand>,
}

impl TemplateId {
    fn to_wire(&self) -> ledger::Identifier {
        ledger::Identifier {
            package_id: self.package_id.clone(),
            module_name: self.module.clone(),
            entity_name: self.entity.clone(),
        }
    }
}

fn record(fields: &[(String, DamlValue)]) -> ledger::Record {
    value::record(fields.iter().map(|(label, v)| (label.as_str(), v.to_wire())).collect())
}

impl DamlValue {
    pub(crate) fn to_wire(&self) -> ledger::Value {
        match self {
            DamlValue::Unit => value::unit(),
            DamlValue::Party(p) => value::party(p),
            DamlValue::Text(t) => value::text(t),
            DamlValue::Numeric(n) => value::numeric(n),
            DamlValue::List(items) => value::list(items.iter().map(DamlValue::to_wire).collect()),
            DamlValue::Record(fields) => value::nested(record(fields)),
        }
    }
}

impl LedgerCommand {
    /// The Ledger API's command (the lab's interpreter reads it in this shape).
    pub(crate) fn to_wire(&self) -> ledger::Command {
        use ledger::command::Command;
        let command = match self {
            LedgerCommand::Create { template, arguments } => Command::Create(ledger::CreateCommand {
                template_id: Some(template.to_wire()),
                create_arguments: Some(record(arguments)),
            }),
            LedgerCommand::Exercise {
                template,
                contract_id,
                choice,
                argument,
            } => Command::Exercise(ledger::ExerciseCommand {
                template_id: Some(template.to_wire()),
                contract_id: contract_id.clone(),
                choice: choice.clone(),
                choice_argument: Some(argument.to_wire()),
            }),
        };
        ledger::Command { command: Some(command) }
    }
}

impl Submission {
    /// The Ledger API's commands; the user id and the command id are the sender's.
    pub(crate) fn to_wire(&self, user_id: &str, command_id: String) -> ledger::Commands {
        ledger::Commands {
            user_id: user_id.to_string(),
            command_id,
            act_as: self.act_as.clone(),
            synchronizer_id: self.synchronizer_id.clone().unwrap_or_default(),
            commands: self.commands.iter().map(LedgerCommand::to_wire).collect(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_becomes_the_ledger_api_commands() {
        let iou = TemplateId {
            package_id: "pkg".into(),
            module: "Iou".into(),
            entity: "Iou".into(),
        };
        let submission = Submission {
            act_as: vec!["Alice".into()],
            synchronizer_id: Some("new::1220".into()),
            commands: vec![
                LedgerCommand::Create {
                    template: iou.clone(),
                    arguments: vec![
                        ("owner".into(), DamlValue::Party("Bob".into())),
                        (
                            "amount".into(),
                            DamlValue::Record(vec![
                                ("value".into(), DamlValue::Numeric("1.0".into())),
                                ("currency".into(), DamlValue::Text("USD".into())),
                            ]),
                        ),
                        ("viewers".into(), DamlValue::List(vec![])),
                    ],
                },
                LedgerCommand::Exercise {
                    template: iou,
                    contract_id: "00aa".into(),
                    choice: "Call".into(),
                    argument: DamlValue::Unit,
                },
            ],
        };
        let wire = submission.to_wire("recovery-deck", "c1".into());
        assert_eq!(
            (wire.user_id.as_str(), wire.command_id.as_str()),
            ("recovery-deck", "c1")
        );
        assert_eq!(wire.synchronizer_id, "new::1220");
        assert_eq!(wire.act_as, ["Alice"]);
        let Some(ledger::command::Command::Create(create)) = &wire.commands[0].command else {
            panic!("a create first");
        };
        let args = create.create_arguments.as_ref().expect("arguments");
        assert_eq!(
            value::record_to_json(args),
            serde_json::json!({"owner": "Bob", "amount": {"value": "1.0", "currency": "USD"}, "viewers": []})
        );
        let Some(ledger::command::Command::Exercise(exercise)) = &wire.commands[1].command else {
            panic!("then an exercise");
        };
        assert_eq!(
            (exercise.contract_id.as_str(), exercise.choice.as_str()),
            ("00aa", "Call")
        );
        assert_eq!(exercise.choice_argument, Some(value::unit()));
    }
}
