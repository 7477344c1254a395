//! Identifiers of lab nodes, parties, synchronizers and contracts, shaped like Canton's:
//! namespaces are `1220` + sha256 hex (a multihash fingerprint), party ids `hint::namespace`,
//! synchronizer ids `name::namespace` (physical: `…::34-0`), contract ids hex strings.

use crate::wire::lab::ContractBlob;
use prost::Message;
use sha2::{Digest, Sha256};

/// The protocol version the lab's synchronizers report (Canton 3.3/3.4 speak PV 34).
pub const PROTOCOL_VERSION: i32 = 34;

pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// A namespace fingerprint derived from a node name, stable across restarts.
pub fn namespace(seed: &str) -> String {
    format!("1220{}", sha256_hex(&[b"namespace", seed.as_bytes()]))
}

/// The participant's unique identifier as Canton prints it (`UniqueIdentifier`:
/// `identifier::namespace`), which `ParticipantStatus` reports as `uid` and which is also
/// the id of the participant's admin party (`Member.adminParty = PartyId(uid)`,
/// topology/Member.scala; `NodeStatus` writes `uid.toProtoPrimitive`,
/// health/admin/data/NodeStatus.scala).
pub fn participant_uid(name: &str) -> String {
    format!("{name}::{}", namespace(name))
}

/// The participant as a sequencer member (`ParticipantId`: `PAR::` + uid).
pub fn participant_member(name: &str) -> String {
    format!("PAR::{}", participant_uid(name))
}

pub fn party_id(hint: &str, participant_name: &str) -> String {
    format!("{hint}::{}", namespace(participant_name))
}

pub fn synchronizer_id(name: &str) -> String {
    format!("{name}::{}", namespace(name))
}

pub fn physical_synchronizer_id(name: &str) -> String {
    format!("{}::{PROTOCOL_VERSION}-0", synchronizer_id(name))
}

/// The part of a physical id that names the logical synchronizer.
pub fn logical_of(physical: &str) -> &str {
    match physical.rsplit_once("::") {
        Some((logical, pv)) if pv.contains('-') => logical,
        _ => physical,
    }
}

/// Encoding of a contract's content without its id: what the id's suffix authenticates.
fn content_bytes(blob: &ContractBlob) -> Vec<u8> {
    let mut unsigned = blob.clone();
    unsigned.contract_id.clear();
    unsigned.encode_to_vec()
}

/// A fresh contract id: `00` + discriminator + `ca10` + suffix, where the suffix is a hash
/// of the discriminator and the content, so that `authenticate` can later detect a payload
/// that was changed under the same id (Canton's VALIDATION import mode does the same:
/// participant/admin/repair/ContractAuthenticationImportProcessor.scala).
pub fn contract_id(discriminator_seed: &[&[u8]], blob: &ContractBlob) -> String {
    let disc = sha256_hex(discriminator_seed);
    let suffix = sha256_hex(&[disc.as_bytes(), &content_bytes(blob)]);
    format!("00{disc}ca10{suffix}")
}

/// Whether `blob.contract_id` is the id its content was created under.
pub fn authenticate(blob: &ContractBlob) -> bool {
    let id = &blob.contract_id;
    if id.len() != 2 + 64 + 4 + 64 || !id.starts_with("00") || &id[66..70] != "ca10" {
        return false;
    }
    let disc = &id[2..66];
    let suffix = &id[70..];
    suffix == sha256_hex(&[disc.as_bytes(), &content_bytes(blob)])
}

/// Digest of what makes two copies of a contract "the same payload": template, arguments
/// and parties. Used for the lab's own consistency checks.
pub fn payload_digest(blob: &ContractBlob) -> String {
    sha256_hex(&[&content_bytes(blob)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value;

    fn blob() -> ContractBlob {
        ContractBlob {
            contract_id: String::new(),
            template_id: None,
            package_name: "CantonExamples".into(),
            create_arguments: Some(value::record(vec![("payer", value::party("A::1"))])),
            signatories: vec!["A::1".into()],
            observers: vec![],
            created_at_micros: 7,
        }
    }

    #[test]
    fn ids_are_canton_shaped_and_stable() {
        let p = party_id("Alice", "participant1");
        assert!(p.starts_with("Alice::1220"));
        assert_eq!(p.len(), "Alice::".len() + 4 + 64);
        assert_eq!(p, party_id("Alice", "participant1"));
        assert_ne!(p, party_id("Alice", "participant2"));
        let phys = physical_synchronizer_id("lostDomain");
        assert!(phys.ends_with("::34-0"));
        assert_eq!(logical_of(&phys), synchronizer_id("lostDomain"));
        assert_eq!(logical_of("x::1220ab"), "x::1220ab");
    }

    #[test]
    fn contract_ids_authenticate_their_content() {
        let mut b = blob();
        b.contract_id = contract_id(&[b"update-1", &0u32.to_be_bytes()], &b);
        assert!(hex::decode(&b.contract_id).is_ok(), "ids are even-length hex");
        assert!(authenticate(&b));
        let mut tampered = b.clone();
        tampered.signatories.push("B::2".into());
        assert!(!authenticate(&tampered));
        let mut other = b.clone();
        other.contract_id = contract_id(&[b"update-1", &1u32.to_be_bytes()], &blob());
        assert_ne!(
            other.contract_id, b.contract_id,
            "discriminator separates equal payloads"
        );
        assert_eq!(payload_digest(&other), payload_digest(&b));
        tampered.contract_id = "00zz".into();
        assert!(!authenticate(&tampered));
    }
}
