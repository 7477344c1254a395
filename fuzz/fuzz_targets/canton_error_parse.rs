//! Canton's `CODE(category,correlation): cause` parser on any string, multi-byte
//! characters included, and the client error built from such a status; the same bytes
//! as a status's `grpc-status-details-bin` (ErrorInfo, RequestInfo, RetryInfo), which a
//! participant answering garbage could fill with anything.

#![no_main]

use libfuzzer_sys::fuzz_target;
use recovery_deck::canton_error::{from_status, parse};
use recovery_deck::client::ClientError;

fuzz_target!(|data: &[u8]| {
    let message = String::from_utf8_lossy(data);
    if let Some(e) = parse(&message) {
        // A redacted message names no code: only its correlation id says which error.
        assert!(e.redacted && e.code.is_empty() || message.starts_with(&format!("{}(", e.code)));
        let _ = e.to_string();
    }
    let status = tonic::Status::new(tonic::Code::FailedPrecondition, message.into_owned());
    let _ = ClientError::from_status("participant1", "ChangeAssignation", status).to_string();

    let detailed = tonic::Status::with_details(
        tonic::Code::PermissionDenied,
        "An error occurred. Please contact the operator and inquire about the request",
        tonic::codegen::Bytes::copy_from_slice(data),
    );
    if let Some(e) = from_status(&detailed) {
        let _ = e.to_string();
    }
    let _ = ClientError::from_status("participant1", "ImportAcs", detailed).to_string();
});
