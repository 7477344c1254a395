//! The built-in Daml templates of the lab, `Iou:Iou` and `Iou:GetCash` (Canton's
//! community/common/src/main/daml/CantonExamples/Iou.daml), interpreted directly: commands in, consumed inputs and created contracts
//! out. Pure: the participant supplies the active contracts it knows.

use crate::canton_error::{Code, codes};
use crate::client::{DamlValue, LedgerCommand, TemplateId};
use crate::value::{self, as_list, as_numeric, as_party, as_record, as_text, field};
use crate::wire::lab::ContractBlob;
use crate::wire::ledger::{Identifier, Record, Value, command};
use std::collections::BTreeSet;

pub const PACKAGE_NAME: &str = "CantonExamples";

/// Stable package id of the lab's CantonExamples package.
pub fn package_id() -> String {
    crate::lab::ids::sha256_hex(&[b"package", PACKAGE_NAME.as_bytes()])
}

pub fn template_id(entity: &str) -> Identifier {
    Identifier {
        package_id: package_id(),
        module_name: "Iou".into(),
        entity_name: entity.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    Iou,
    GetCash,
}

impl Template {
    fn entity(self) -> &'static str {
        match self {
            Template::Iou => "Iou",
            Template::GetCash => "GetCash",
        }
    }
}

/// An interpretation failure with the Canton code the Ledger API would report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: Code,
    pub cause: String,
}

fn reject(code: Code, cause: impl Into<String>) -> Rejection {
    Rejection {
        code,
        cause: cause.into(),
    }
}

/// A contract the transaction creates; its id is assigned by the participant.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContract {
    pub template: Template,
    pub arguments: Record,
    pub signatories: Vec<String>,
    pub observers: Vec<String>,
}

impl NewContract {
    pub fn into_blob(self, created_at_micros: i64) -> ContractBlob {
        ContractBlob {
            contract_id: String::new(),
            template_id: Some(template_id(self.template.entity())),
            package_name: PACKAGE_NAME.into(),
            create_arguments: Some(self.arguments),
            signatories: self.signatories,
            observers: self.observers,
            created_at_micros,
        }
    }
}

/// What a transaction does: the contracts it consumes and the ones it creates.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Effects {
    pub consumed: Vec<ContractBlob>,
    pub created: Vec<NewContract>,
}

pub fn resolve_template(id: Option<&Identifier>) -> Result<Template, Rejection> {
    let id = id.ok_or_else(|| {
        reject(
            codes::MISSING_FIELD,
            "The submitted command is missing a mandatory field: template_id",
        )
    })?;
    let package_ok = id.package_id == package_id() || id.package_id == format!("#{PACKAGE_NAME}");
    let template = match (id.module_name.as_str(), id.entity_name.as_str()) {
        ("Iou", "Iou") => Some(Template::Iou),
        ("Iou", "GetCash") => Some(Template::GetCash),
        _ => None,
    };
    match template {
        Some(t) if package_ok => Ok(t),
        _ => Err(reject(
            codes::TEMPLATES_OR_INTERFACES_NOT_FOUND,
            format!(
                "Templates do not exist: [{}:{}:{}].",
                id.package_id, id.module_name, id.entity_name
            ),
        )),
    }
}

fn interpretation(cause: impl Into<String>) -> Rejection {
    reject(codes::DAML_INTERPRETATION_ERROR, cause)
}

fn party_field(r: &Record, label: &str) -> Result<String, Rejection> {
    field(r, label)
        .and_then(as_party)
        .map(str::to_string)
        .ok_or_else(|| interpretation(format!("Missing or ill-typed field '{label}': expected a Party")))
}

/// Checks an `Amount {value: Decimal, currency: Text}` and returns it normalised.
fn amount_field(r: &Record) -> Result<Record, Rejection> {
    let amount = field(r, "amount")
        .and_then(as_record)
        .ok_or_else(|| interpretation("Missing or ill-typed field 'amount': expected Amount"))?;
    let raw = field(amount, "value")
        .and_then(as_numeric)
        .ok_or_else(|| interpretation("Missing or ill-typed field 'amount.value': expected Decimal"))?;
    let normalised =
        value::normalize_decimal(raw).ok_or_else(|| interpretation(format!("'{raw}' is not a valid Decimal")))?;
    let currency = field(amount, "currency")
        .and_then(as_text)
        .ok_or_else(|| interpretation("Missing or ill-typed field 'amount.currency': expected Text"))?;
    Ok(value::record(vec![
        ("value", value::numeric(&normalised)),
        ("currency", value::text(currency)),
    ]))
}

fn party_list_field(r: &Record, label: &str) -> Result<Vec<String>, Rejection> {
    let Some(v) = field(r, label) else {
        return Ok(Vec::new());
    };
    let items = as_list(v).ok_or_else(|| interpretation(format!("Ill-typed field '{label}': expected [Party]")))?;
    items
        .iter()
        .map(|i| {
            as_party(i)
                .map(str::to_string)
                .ok_or_else(|| interpretation(format!("Ill-typed element in '{label}': expected Party")))
        })
        .collect()
}

fn observers_of(signatories: &[String], candidates: impl IntoIterator<Item = String>) -> Vec<String> {
    let sigs: BTreeSet<&String> = signatories.iter().collect();
    let obs: BTreeSet<String> = candidates.into_iter().filter(|p| !sigs.contains(p)).collect();
    obs.into_iter().collect()
}

fn iou(payer: &str, owner: &str, amount: Record, viewers: Vec<String>) -> Result<NewContract, Rejection> {
    let value = field(&amount, "value").and_then(as_numeric).unwrap_or("0");
    if value.starts_with('-') {
        return Err(interpretation(format!(
            "Template precondition violated: Iou amount must be non-negative, got {value}"
        )));
    }
    let arguments = value::record(vec![
        ("payer", value::party(payer)),
        ("owner", value::party(owner)),
        ("amount", value::nested(amount)),
        (
            "viewers",
            value::list(viewers.iter().map(|v| value::party(v)).collect()),
        ),
    ]);
    let signatories = vec![payer.to_string()];
    let observers = observers_of(&signatories, std::iter::once(owner.to_string()).chain(viewers));
    Ok(NewContract {
        template: Template::Iou,
        arguments,
        signatories,
        observers,
    })
}

fn get_cash(payer: &str, owner: &str, amount: Record) -> NewContract {
    let arguments = value::record(vec![
        ("payer", value::party(payer)),
        ("owner", value::party(owner)),
        ("amount", value::nested(amount)),
    ]);
    let signatories: BTreeSet<String> = [payer.to_string(), owner.to_string()].into();
    NewContract {
        template: Template::GetCash,
        arguments,
        signatories: signatories.into_iter().collect(),
        observers: Vec::new(),
    }
}

fn require_authorized(required: &[String], authorizers: &BTreeSet<String>, what: &str) -> Result<(), Rejection> {
    let missing: Vec<&String> = required.iter().filter(|p| !authorizers.contains(*p)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(reject(
            codes::DAML_AUTHORIZATION_ERROR,
            format!(
                "Interpretation error: {what} requires authorizers {missing:?}, but only {authorizers:?} were given"
            ),
        ))
    }
}

fn create(template: Template, args: &Record, act_as: &BTreeSet<String>) -> Result<NewContract, Rejection> {
    let payer = party_field(args, "payer")?;
    let owner = party_field(args, "owner")?;
    let amount = amount_field(args)?;
    let contract = match template {
        Template::Iou => iou(&payer, &owner, amount, party_list_field(args, "viewers")?)?,
        Template::GetCash => get_cash(&payer, &owner, amount),
    };
    require_authorized(&contract.signatories, act_as, "create")?;
    Ok(contract)
}

fn choice_party(arg: Option<&Value>, label: &str) -> Result<String, Rejection> {
    let direct = arg.and_then(as_party);
    let in_record = arg.and_then(as_record).and_then(|r| field(r, label)).and_then(as_party);
    direct
        .or(in_record)
        .map(str::to_string)
        .ok_or_else(|| interpretation(format!("Choice argument must carry '{label}': Party")))
}

fn exercise(
    input: &ContractBlob,
    template: Template,
    choice: &str,
    arg: Option<&Value>,
    act_as: &BTreeSet<String>,
) -> Result<Vec<NewContract>, Rejection> {
    let args = input
        .create_arguments
        .as_ref()
        .ok_or_else(|| interpretation("stored contract has no arguments"))?;
    let payer = party_field(args, "payer")?;
    let owner = party_field(args, "owner")?;
    let amount = amount_field(args)?;
    let signatories_auth: BTreeSet<String> = input.signatories.iter().cloned().collect();
    match (template, choice) {
        (_, "Archive") => {
            require_authorized(&input.signatories, act_as, "Archive")?;
            Ok(Vec::new())
        }
        (Template::Iou, "Call" | "Transfer" | "Share") => {
            require_authorized(std::slice::from_ref(&owner), act_as, choice)?;
            // Inside the choice, the contract's signatories and the controller authorize.
            let mut inside = signatories_auth;
            inside.insert(owner.clone());
            let viewers = party_list_field(args, "viewers")?;
            let created = match choice {
                "Call" => get_cash(&payer, &owner, amount),
                "Transfer" => iou(&payer, &choice_party(arg, "newOwner")?, amount, Vec::new())?,
                _ => {
                    let mut vs = vec![choice_party(arg, "viewer")?];
                    vs.extend(viewers);
                    iou(&payer, &owner, amount, vs)?
                }
            };
            require_authorized(&created.signatories, &inside, choice)?;
            Ok(vec![created])
        }
        _ => Err(interpretation(format!(
            "Template Iou:{} has no choice {choice}",
            template.entity()
        ))),
    }
}

/// Interprets `commands` atomically. `lookup` answers with the active contract for an id
/// as the submitting participant sees it.
pub fn interpret(
    commands: &[crate::wire::ledger::Command],
    act_as: &BTreeSet<String>,
    lookup: impl Fn(&str) -> Option<ContractBlob>,
) -> Result<Effects, Rejection> {
    if commands.is_empty() {
        return Err(reject(
            codes::MISSING_FIELD,
            "The submitted command is missing a mandatory field: commands",
        ));
    }
    let mut effects = Effects::default();
    let mut consumed: BTreeSet<String> = BTreeSet::new();
    for cmd in commands {
        match &cmd.command {
            Some(command::Command::Create(c)) => {
                let template = resolve_template(c.template_id.as_ref())?;
                let args = c.create_arguments.as_ref().ok_or_else(|| {
                    reject(
                        codes::MISSING_FIELD,
                        "The submitted command is missing a mandatory field: create_arguments",
                    )
                })?;
                effects.created.push(create(template, args, act_as)?);
            }
            Some(command::Command::Exercise(e)) => {
                let template = resolve_template(e.template_id.as_ref())?;
                if consumed.contains(&e.contract_id) {
                    return Err(reject(
                        codes::CONTRACT_NOT_FOUND,
                        format!(
                            "Contract could not be found with id {} (consumed earlier in this transaction)",
                            e.contract_id
                        ),
                    ));
                }
                let input = lookup(&e.contract_id).ok_or_else(|| {
                    reject(
                        codes::CONTRACT_NOT_FOUND,
                        format!("Contract could not be found with id {}", e.contract_id),
                    )
                })?;
                let actual = resolve_template(input.template_id.as_ref())?;
                if actual != template {
                    return Err(interpretation(format!(
                        "Contract {} is a Iou:{}, not a Iou:{}",
                        e.contract_id,
                        actual.entity(),
                        template.entity()
                    )));
                }
                let created = exercise(&input, template, &e.choice, e.choice_argument.as_ref(), act_as)?;
                consumed.insert(e.contract_id.clone());
                effects.consumed.push(input);
                effects.created.extend(created);
            }
            Some(_) => {
                return Err(reject(
                    codes::INVALID_ARGUMENT,
                    "The lab supports create and exercise commands only",
                ));
            }
            None => {
                return Err(reject(
                    codes::MISSING_FIELD,
                    "The submitted command is missing a mandatory field: command",
                ));
            }
        }
    }
    Ok(effects)
}

fn iou_template() -> TemplateId {
    TemplateId {
        package_id: package_id(),
        module: "Iou".into(),
        entity: "Iou".into(),
    }
}

/// The command that creates an Iou (used by scenarios and workflows).
pub fn create_iou_command(payer: &str, owner: &str, amount: &str, currency: &str) -> LedgerCommand {
    LedgerCommand::Create {
        template: iou_template(),
        arguments: vec![
            ("payer".into(), DamlValue::Party(payer.into())),
            ("owner".into(), DamlValue::Party(owner.into())),
            (
                "amount".into(),
                DamlValue::Record(vec![
                    ("value".into(), DamlValue::Numeric(amount.into())),
                    ("currency".into(), DamlValue::Text(currency.into())),
                ]),
            ),
            ("viewers".into(), DamlValue::List(Vec::new())),
        ],
    }
}

/// The create arguments of an Iou blob with its amount's value replaced (drills that need
/// a hand-edited copy of a contract).
pub fn iou_arguments(blob: &ContractBlob, amount: &str) -> Option<crate::wire::ledger::Record> {
    let mut args = blob.create_arguments.clone()?;
    let field = args.fields.iter_mut().find(|f| f.label == "amount")?;
    let Some(crate::wire::ledger::value::Sum::Record(inner)) = field.value.as_mut().and_then(|v| v.sum.as_mut()) else {
        return None;
    };
    let value = inner.fields.iter_mut().find(|f| f.label == "value")?;
    value.value = Some(value::numeric(amount));
    Some(args)
}

/// The command that exercises `choice` on an Iou.
pub fn exercise_iou_command(contract_id: &str, choice: &str, argument: DamlValue) -> LedgerCommand {
    LedgerCommand::Exercise {
        template: iou_template(),
        contract_id: contract_id.into(),
        choice: choice.into(),
        argument,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create_iou_command(payer: &str, owner: &str, amount: &str, currency: &str) -> crate::wire::ledger::Command {
        super::create_iou_command(payer, owner, amount, currency).to_wire()
    }

    fn exercise_iou_command(contract_id: &str, choice: &str, argument: DamlValue) -> crate::wire::ledger::Command {
        super::exercise_iou_command(contract_id, choice, argument).to_wire()
    }

    fn party(p: &str) -> DamlValue {
        DamlValue::Party(p.into())
    }

    fn parties(ps: &[&str]) -> BTreeSet<String> {
        ps.iter().map(|p| p.to_string()).collect()
    }

    fn stored(nc: NewContract, id: &str) -> ContractBlob {
        let mut b = nc.into_blob(1);
        b.contract_id = id.into();
        b
    }

    #[test]
    fn payer_creates_an_iou_with_owner_as_observer() {
        let fx = interpret(&[create_iou_command("A", "B", "100", "USD")], &parties(&["A"]), |_| {
            None
        })
        .expect("ok");
        assert_eq!(fx.created.len(), 1);
        let iou = &fx.created[0];
        assert_eq!(iou.signatories, vec!["A"]);
        assert_eq!(iou.observers, vec!["B"]);
        let amount = field(&iou.arguments, "amount").and_then(as_record).expect("amount");
        assert_eq!(field(amount, "value").and_then(as_numeric), Some("100.0000000000"));
    }

    #[test]
    fn only_the_payer_may_create() {
        let err = interpret(&[create_iou_command("A", "B", "1", "USD")], &parties(&["B"]), |_| None).unwrap_err();
        assert_eq!(err.code, codes::DAML_AUTHORIZATION_ERROR);
    }

    #[test]
    fn negative_amounts_violate_the_precondition() {
        let err = interpret(&[create_iou_command("A", "B", "-1", "USD")], &parties(&["A"]), |_| None).unwrap_err();
        assert_eq!(err.code, codes::DAML_INTERPRETATION_ERROR);
    }

    #[test]
    fn call_consumes_the_iou_and_creates_get_cash() {
        let fx0 = interpret(&[create_iou_command("A", "B", "5", "USD")], &parties(&["A"]), |_| None).expect("ok");
        let iou = stored(fx0.created.into_iter().next().expect("iou"), "00c1");
        let lookup = |id: &str| (id == "00c1").then(|| iou.clone());
        let call = exercise_iou_command("00c1", "Call", DamlValue::Unit);
        let err = interpret(std::slice::from_ref(&call), &parties(&["A"]), lookup).unwrap_err();
        assert_eq!(
            err.code,
            codes::DAML_AUTHORIZATION_ERROR,
            "only the owner controls Call"
        );
        let fx = interpret(&[call], &parties(&["B"]), lookup).expect("ok");
        assert_eq!(fx.consumed.len(), 1);
        assert_eq!(fx.created[0].template, Template::GetCash);
        assert_eq!(fx.created[0].signatories, vec!["A", "B"]);
    }

    #[test]
    fn transfer_and_share_recreate_the_iou() {
        let fx0 = interpret(&[create_iou_command("A", "B", "5", "USD")], &parties(&["A"]), |_| None).expect("ok");
        let iou = stored(fx0.created.into_iter().next().expect("iou"), "00c1");
        let lookup = |id: &str| (id == "00c1").then(|| iou.clone());
        let arg = DamlValue::Record(vec![("newOwner".into(), party("C"))]);
        let fx = interpret(
            &[exercise_iou_command("00c1", "Transfer", arg)],
            &parties(&["B"]),
            lookup,
        )
        .expect("ok");
        assert_eq!(fx.created[0].observers, vec!["C"]);
        let arg = DamlValue::Record(vec![("viewer".into(), party("V"))]);
        let fx = interpret(&[exercise_iou_command("00c1", "Share", arg)], &parties(&["B"]), lookup).expect("ok");
        assert_eq!(fx.created[0].observers, vec!["B", "V"]);
    }

    #[test]
    fn unknown_contracts_templates_and_double_spends_are_rejected() {
        let err = interpret(
            &[exercise_iou_command("00ff", "Call", DamlValue::Unit)],
            &parties(&["B"]),
            |_| None,
        )
        .unwrap_err();
        assert_eq!(err.code, codes::CONTRACT_NOT_FOUND);
        let mut bad = create_iou_command("A", "B", "5", "USD");
        if let Some(command::Command::Create(c)) = &mut bad.command {
            c.template_id = Some(Identifier {
                package_id: "x".into(),
                module_name: "Paint".into(),
                entity_name: "PaintHouse".into(),
            });
        }
        let err = interpret(&[bad], &parties(&["A"]), |_| None).unwrap_err();
        assert_eq!(err.code, codes::TEMPLATES_OR_INTERFACES_NOT_FOUND);
        let fx0 = interpret(&[create_iou_command("A", "B", "5", "USD")], &parties(&["A"]), |_| None).expect("ok");
        let iou = stored(fx0.created.into_iter().next().expect("iou"), "00c1");
        let call = exercise_iou_command("00c1", "Call", DamlValue::Unit);
        let err = interpret(&[call.clone(), call], &parties(&["B"]), |_| Some(iou.clone())).unwrap_err();
        assert_eq!(err.code, codes::CONTRACT_NOT_FOUND);
    }
}
