//! The script's setup: imports, the vals every stage refers to (names, aliases, the plan
//! hash, the data directory) and the helper functions the stages call (waiting, pinging,
//! the import hand-off on either side).

use super::W;
use super::scala::{comment_text, lit, scala_ident};
use crate::console::canton::{self, Cmd};
use crate::console::{Dialect, Part, hash_prefix};
use crate::plan::Plan;

/// How long a script waits for a peer, a connection or the Ledger API to catch up.
const PATIENCE_MINUTES: u32 = 10;

pub(super) fn prelude(w: &mut W, plan: &Plan, part: &Part<'_>) {
    let d = w.d;
    w.line(
        0,
        "// ---- setup -------------------------------------------------------------------------------",
    );
    w.line(0, &canton::predef(d).comment());
    if w.v2() {
        w.line(0, "import com.digitalasset.canton.DomainAlias");
    } else {
        w.line(0, "import com.digitalasset.canton.SynchronizerAlias");
    }
    match d {
        Dialect::Canton3 => w.line(
            0,
            "import com.digitalasset.canton.admin.api.client.data.SequencerConnectionValidation",
        ),
        Dialect::Canton34 => w.line(
            0,
            "import com.digitalasset.canton.sequencing.SequencerConnectionValidation",
        ),
        Dialect::Canton2 => {}
    }
    w.line(0, "import com.digitalasset.canton.config.NonNegativeDuration");
    if d == Dialect::Canton34 {
        w.line(
            0,
            "import com.digitalasset.canton.config.RequireTypes.{NonNegativeLong, PositiveInt}",
        );
    } else {
        w.line(0, "import com.digitalasset.canton.config.RequireTypes.PositiveInt");
    }
    w.line(0, &canton::contract_id_type(d).comment());
    if w.v2() {
        w.line(
            0,
            "import com.digitalasset.canton.protocol.{LfContractId, SerializableContract, SerializableContractWithWitnesses}",
        );
        w.line(0, "import com.digitalasset.canton.topology.ParticipantId");
    } else {
        w.line(0, "import com.digitalasset.canton.protocol.LfContractId");
        w.line(
            0,
            "import com.digitalasset.canton.topology.{ParticipantId, SynchronizerId}",
        );
    }
    w.line(0, "import java.nio.file.{Files, Paths}");
    w.line(0, "import java.security.MessageDigest");
    w.blank();
    w.line(
        0,
        &format!(
            "// The console's name for {}; change it here if your console calls the participant otherwise.",
            comment_text(part.name)
        ),
    );
    w.line(0, &format!("val participant = {}", scala_ident(part.name)));
    w.line(0, &format!("val me = {}", lit(part.name)));
    w.line(0, &format!("val planHash = {}", lit(plan.hash())));
    w.cite(0, Cmd::Alias);
    let ty = w.alias_type();
    for (name, val) in w.aliases.clone() {
        w.line(0, &format!("val {val} = {ty}.tryCreate({})", lit(&name)));
    }
    w.line(0, &format!("val batchSize = {}", plan.batch_size().max(1)));
    w.line(
        0,
        &format!(
            "val workflowPrefix = {}",
            lit(&format!("recovery-deck-{}", hash_prefix(plan.hash())))
        ),
    );
    w.line(0, "val dataDir = sys.env.getOrElse(\"RECOVERY_DECK_DIR\", \".\")");
    w.cite(0, Cmd::Duration);
    w.line(
        0,
        &format!("val patience = NonNegativeDuration.ofMinutes({PATIENCE_MINUTES})"),
    );
    w.blank();
    w.line(0, "def stop(message: String): Nothing = sys.error(s\"$me: $message\")");
    w.blank();
    w.line(
        0,
        "def dataFile(name: String): String = Paths.get(dataDir, name).toString",
    );
    w.blank();
    w.line(
        0,
        "// Reads a file written by recovery-deck export-console; refuses it unless its SHA-256 and its",
    );
    w.line(0, "// number of ids are the ones pinned in this script.");
    w.line(
        0,
        "def readIds(name: String, count: Int, digest: String): Vector[String] = {",
    );
    w.line(1, "val bytes = Files.readAllBytes(Paths.get(dataFile(name)))");
    w.line(
        1,
        "val actual = \"sha256:\" + MessageDigest.getInstance(\"SHA-256\").digest(bytes).map(b => \"%02x\".format(b & 0xff)).mkString",
    );
    w.line(
        1,
        "if (actual != digest) stop(s\"$name hashes to $actual but the plan pins $digest: it was changed after export-console wrote it; do not go on\")",
    );
    w.line(
        1,
        "val ids = new String(bytes, \"UTF-8\").split('\\n').toVector.filter(_.nonEmpty)",
    );
    w.line(
        1,
        "if (ids.size != count) stop(s\"$name holds ${ids.size} ids, the plan has $count\")",
    );
    w.line(1, "ids");
    w.line(0, "}");
    w.blank();
    w.cite(0, Cmd::ContractId);
    w.line(
        0,
        "def toCids(ids: Seq[String]): Seq[LfContractId] = ids.map(LfContractId.assertFromString)",
    );
    w.blank();
    batches_helper(w);
    if w.v2() {
        w.line(
            0,
            "// The contracts of `ids` this participant holds active on `domain`.",
        );
        w.cite(0, Cmd::Active);
        w.cite(0, Cmd::ActiveEntry);
        w.line(0, "def activeOn(domain: DomainAlias, ids: Set[String]): Set[String] =");
        w.line(1, "if (ids.isEmpty) Set.empty");
        w.line(
            1,
            "else participant.testing.pcs_search(domain, activeSet = true, limit = PositiveInt.tryCreate(Int.MaxValue)).map(_._2.contractId.coid).filter(ids.contains).toSet",
        );
    } else {
        w.line(
            0,
            "// The contracts of `ids` this participant holds active, each with its synchronizer.",
        );
        w.cite(0, Cmd::Active);
        w.cite(0, Cmd::ActiveEntry);
        w.line(
            0,
            "def activeOf(ids: Set[String]): Map[String, Option[SynchronizerId]] =",
        );
        w.line(1, "if (ids.isEmpty) Map.empty");
        w.line(1, "else participant.ledger_api.state.acs.of_all(");
        w.line(2, "limit = PositiveInt.tryCreate(ids.size),");
        w.line(2, "verbose = false,");
        w.line(
            2,
            "resultFilter = r => r.contractEntry.activeContract.exists(c => ids.contains(c.getCreatedEvent.contractId))",
        );
        w.line(1, ").map(e => e.contractId -> e.synchronizerId).toMap");
        w.blank();
        w.line(
            0,
            "def activeOn(synchronizer: SynchronizerId, ids: Set[String]): Set[String] =",
        );
        w.line(
            1,
            "activeOf(ids).collect { case (id, Some(s)) if s == synchronizer => id }.toSet",
        );
    }
    w.blank();
    w.cite(0, Cmd::ListConnected);
    if w.v2() {
        w.line(0, "def connectedTo(alias: DomainAlias): Boolean =");
        w.line(1, "participant.domains.list_connected().exists(_.domainAlias == alias)");
    } else {
        w.line(0, "def connectedTo(alias: SynchronizerAlias): Boolean =");
        w.line(
            1,
            "participant.synchronizers.list_connected().exists(_.synchronizerAlias == alias)",
        );
    }
    w.blank();
    w.line(
        0,
        "// Another participant of the plan, found in the topology by its name: the plan's participant names",
    );
    w.line(
        0,
        "// must be the participants' identifiers (the part of the id before ::).",
    );
    w.cite(0, Cmd::PartiesList);
    w.cite(0, Cmd::ParticipantOfParty);
    w.cite(0, Cmd::FilterString);
    w.line(0, "def peerId(name: String): ParticipantId = {");
    w.line(
        1,
        "val found = participant.parties.list(filterParticipant = name).flatMap(_.participants.map(_.participant)).distinct.filter(_.filterString.startsWith(name + \"::\"))",
    );
    w.line(1, "found match {");
    w.line(2, "case Seq(one) => one");
    w.line(
        2,
        "case Seq() => stop(s\"no participant called $name in the topology; is the plan's name the participant's identifier?\")",
    );
    w.line(
        2,
        "case many => stop(s\"several participants are called $name: ${many.mkString(\", \")}\")",
    );
    w.line(1, "}");
    w.line(0, "}");
    w.blank();
    w.line(
        0,
        "// Pings `name` until it answers: the peer may still be on its way to the target.",
    );
    w.cite(0, Cmd::Ping);
    w.cite(0, Cmd::RetryUntilTrue);
    if w.v2() {
        w.line(0, "def pingUntilOk(name: String): Unit = {");
        w.line(1, "val id = peerId(name)");
        w.line(1, "utils.retry_until_true(patience)(");
        w.line(2, "scala.util.Try(participant.health.ping(id)).isSuccess,");
    } else {
        w.line(0, "def pingUntilOk(name: String, over: SynchronizerId): Unit = {");
        w.line(1, "val id = peerId(name)");
        w.line(1, "utils.retry_until_true(patience)(");
        w.line(
            2,
            "scala.util.Try(participant.health.ping(id, synchronizerId = Some(over))).isSuccess,",
        );
    }
    w.line(
        2,
        "s\"$me could not ping $name over $target within $patience: is $name connected to $target?\"",
    );
    w.line(1, ")");
    w.line(1, "println(s\"$me pinged $name over $target\")");
    w.line(0, "}");
    w.blank();
    if !part.exports.is_empty() {
        export_fn(w);
    }
    if !part.imports.is_empty() {
        import_fn(w);
    }
}

fn export_fn(w: &mut W) {
    w.line(
        0,
        "// Import hand-off, source side: writes exactly the planned contracts for `receiver` to `handoff`.",
    );
    let ty = w.alias_type();
    w.line(
        0,
        &format!("def exportFor(receiver: String, from: {ty}, idsFile: String, count: Int, digest: String, handoff: String): Unit = {{"),
    );
    w.line(1, "val wanted = readIds(idsFile, count, digest).toSet");
    if w.v2() {
        w.cite(1, Cmd::ExportAcs);
        w.line(
            1,
            "val contracts = participant.testing.pcs_search(from, activeSet = true, limit = PositiveInt.tryCreate(Int.MaxValue)).map(_._2).filter(c => wanted.contains(c.contractId.coid))",
        );
        w.line(1, "val missing = wanted -- contracts.map(_.contractId.coid)");
    } else {
        w.line(
            1,
            "// export_acs exports by party: everything of this participant on the lost synchronizer goes to a",
        );
        w.line(
            1,
            "// temporary file here, and only the planned contracts are written to the hand-off file.",
        );
        w.line(1, "val everything = dataFile(handoff + \".everything.tmp\")");
        w.cite(1, Cmd::IdOf);
        w.cite(1, Cmd::LedgerEnd);
        w.cite(1, Cmd::ExportAcs);
        let offset = if w.d == Dialect::Canton34 {
            "NonNegativeLong.tryCreate(participant.ledger_api.state.end())"
        } else {
            "participant.ledger_api.state.end()"
        };
        w.line(
            1,
            &format!(
                "participant.repair.export_acs(parties = Set.empty, ledgerOffset = {offset}, exportFilePath = everything, synchronizerId = Some(participant.synchronizers.id_of(from)))"
            ),
        );
        w.cite(1, Cmd::ReadSnapshot);
        w.line(
            1,
            "val contracts = try repair.acs.read_from_file(everything).filter(c => wanted.contains(c.getCreatedEvent.contractId)) finally Files.deleteIfExists(Paths.get(everything))",
        );
        w.line(1, "val missing = wanted -- contracts.map(_.getCreatedEvent.contractId)");
    }
    w.line(
        1,
        "if (missing.nonEmpty) stop(s\"cannot hand $receiver ${missing.size} of the planned contracts: $me no longer holds them active on $from (${missing.take(3).mkString(\", \")})\")",
    );
    match w.d {
        Dialect::Canton2 => {
            w.cite(1, Cmd::ContractProto);
            w.cite(1, Cmd::WriteSnapshot);
            w.line(1, "utils.write_to_file(contracts.map(_.toProtoV2), dataFile(handoff))");
        }
        Dialect::Canton3 => {
            w.cite(1, Cmd::ProtocolVersion);
            w.cite(1, Cmd::WriteSnapshot);
            w.line(
                1,
                "participant.repair.write_contracts_to_file(contracts, participant.synchronizers.physical_id_of(from).protocolVersion, dataFile(handoff))",
            );
        }
        Dialect::Canton34 => {
            w.cite(1, Cmd::WriteSnapshot);
            w.line(
                1,
                "participant.repair.write_contracts_to_file(contracts, dataFile(handoff))",
            );
        }
    }
    w.line(
        1,
        "println(s\"$me wrote $handoff with ${contracts.size} contracts for $receiver: give it to $receiver's operator before stage 3\")",
    );
    w.line(0, "}");
    w.blank();
}

fn import_fn(w: &mut W) {
    w.line(
        0,
        "// Import hand-off, receiving side: imports `handoff` once it holds exactly the planned contracts.",
    );
    let ty = w.alias_type();
    w.line(
        0,
        &format!("def importFrom(source: String, into: {ty}, idsFile: String, count: Int, digest: String, handoff: String): Unit = {{"),
    );
    w.line(1, "val wanted = readIds(idsFile, count, digest).toSet");
    if w.v2() {
        w.line(
            1,
            "def held: Set[String] = activeOn(into, wanted) ++ activeOn(target, wanted)",
        );
    } else {
        w.line(1, "def held: Set[String] = activeOf(wanted).keySet");
    }
    w.line(1, "val already = held");
    w.line(
        1,
        "if (already == wanted) println(s\"$me already holds the ${wanted.size} contracts from $source: nothing to import\")",
    );
    w.line(1, "else {");
    w.line(
        2,
        "if (already.nonEmpty) stop(s\"$me already holds ${already.size} of the ${wanted.size} contracts to import from $source; an import is all or nothing, so this is not a state the plan leads to: stop and investigate\")",
    );
    w.line(
        2,
        "if (!Files.exists(Paths.get(dataFile(handoff)))) stop(s\"$handoff is missing: $source's operator writes it in stage 2 and gives it to you; put it in $dataDir\")",
    );
    if w.v2() {
        w.cite(2, Cmd::ReadSnapshot);
        w.cite(2, Cmd::ContractProto);
        w.line(
            2,
            "val contracts = utils.read_all_messages_from_file[com.digitalasset.canton.protocol.v2.SerializableContract](dataFile(handoff)).map { proto =>",
        );
        w.line(3, "SerializableContract.fromProtoV2(proto) match {");
        w.line(4, "case Right(contract) => contract");
        w.line(
            4,
            "case Left(error) => stop(s\"$handoff is not a hand-off file: $error\")",
        );
        w.line(3, "}");
        w.line(2, "}");
        w.line(2, "val got = contracts.map(_.contractId.coid)");
    } else {
        w.cite(2, Cmd::ReadSnapshot);
        w.line(
            2,
            "val got = repair.acs.read_from_file(dataFile(handoff)).map(_.getCreatedEvent.contractId)",
        );
    }
    w.line(
        2,
        "if (got.size != wanted.size || got.toSet != wanted) stop(s\"$handoff does not hold exactly the planned contracts from $source (${got.size} contracts, ${(got.toSet -- wanted).size} not planned, ${(wanted -- got).size} missing): do not import it\")",
    );
    match w.d {
        Dialect::Canton2 => {
            w.cite(2, Cmd::WithWitnesses);
            w.cite(2, Cmd::ImportAcs);
            w.line(
                2,
                "participant.repair.add(into, contracts.map(c => SerializableContractWithWitnesses(c, Set.empty)), ignoreAlreadyAdded = true)",
            );
        }
        Dialect::Canton3 => {
            w.cite(2, Cmd::IdOf);
            w.cite(2, Cmd::ImportAcs);
            w.line(
                2,
                "participant.repair.import_acs(participant.synchronizers.id_of(into), dataFile(handoff), workflowIdPrefix = workflowPrefix)",
            );
        }
        Dialect::Canton34 => {
            w.cite(2, Cmd::ImportAcs);
            w.line(
                2,
                "participant.repair.import_acs(dataFile(handoff), workflowIdPrefix = workflowPrefix)",
            );
        }
    }
    w.cite(2, Cmd::RetryUntilTrue);
    w.line(
        2,
        "utils.retry_until_true(patience)(held == wanted, s\"$me: ${held.size} of the ${wanted.size} contracts imported from $source are active after $patience\")",
    );
    w.line(2, "println(s\"$me imported ${wanted.size} contracts from $source\")");
    w.line(1, "}");
    w.line(0, "}");
    w.blank();
}

/// `inBatches`: the ids cut the way recovery-deck cuts every request (`crate::batch`), so
/// the script's batches are the plan's: at most `batchSize` ids and at most
/// `maxBatchBytes` of them as protobuf strings, whatever their lengths.
fn batches_helper(w: &mut W) {
    w.line(
        0,
        &format!(
            "// At most batchSize ids and {} bytes of ids per call: Canton's admin API refuses messages over 10 MiB by default.",
            crate::batch::REQUEST_BYTES
        ),
    );
    w.line(0, &format!("val maxBatchBytes = {}L", crate::batch::REQUEST_BYTES));
    w.line(0, "def inBatches(ids: Vector[String]): Vector[Vector[String]] = {");
    w.line(1, "val out = Vector.newBuilder[Vector[String]]");
    w.line(1, "var batch = Vector.empty[String]");
    w.line(1, "var bytes = 0L");
    w.line(1, "ids.foreach { id =>");
    w.line(2, "val n = id.getBytes(\"UTF-8\").length.toLong");
    w.line(2, "var varint = 1L");
    w.line(2, "while ((n >> (7 * varint)) > 0) varint += 1");
    w.line(2, "val size = 1L + varint + n");
    w.line(
        2,
        "if (batch.nonEmpty && (batch.size >= batchSize || bytes + size > maxBatchBytes)) { out += batch; batch = Vector.empty; bytes = 0L }",
    );
    w.line(2, "batch = batch :+ id");
    w.line(2, "bytes += size");
    w.line(1, "}");
    w.line(1, "if (batch.nonEmpty) out += batch");
    w.line(1, "out.result()");
    w.line(0, "}");
    w.blank();
}
