//! What a bearer token says about itself: the expiry of a JWT (its `exp` claim), read
//! without verifying the signature — the participant verifies; the client only explains a
//! refusal the participant keeps to itself.

use base64::Engine as _;

/// When `token` expires, if it is a JWT with an `exp` claim (seconds since the epoch).
pub fn expiry(token: &str) -> Option<jiff::Timestamp> {
    let mut parts = token.trim().split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&json).ok()?;
    // JWT's NumericDate may carry a fraction (RFC 7519 §2).
    let exp = claims.get("exp")?.as_f64()?;
    jiff::Timestamp::from_second(exp.floor() as i64).ok()
}

/// Whether `token` is a JWT that expired at or before `now`. Canton's JWT verification
/// (auth0's, through `com.daml.jwt.JwtVerifier.verify`) fails on an expired token, so
/// Canton treats the call as carrying no valid token at all (`AuthServiceJWT` →
/// `ClaimSet.Unauthenticated` → `AuthorizationChecksErrors.Unauthenticated.MissingJwtToken`,
/// UNAUTHENTICATED, redacted on the wire).
pub fn expired(token: &str, now: jiff::Timestamp) -> bool {
    expiry(token).is_some_and(|exp| exp <= now)
}

/// A JWT with these claims, signed with nothing: for tests and the lab, which check the
/// claims the client reads, not a signature.
pub fn unsigned(claims: &serde_json::Value) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_of_a_jwt_is_its_exp_claim() {
        let t = unsigned(&serde_json::json!({"sub": "alice", "exp": 1_700_000_000}));
        assert_eq!(
            expiry(&t),
            Some(jiff::Timestamp::from_second(1_700_000_000).expect("ts"))
        );
        assert!(expired(&t, jiff::Timestamp::from_second(1_700_000_000).expect("ts")));
        assert!(!expired(&t, jiff::Timestamp::from_second(1_699_999_999).expect("ts")));
        let fraction = unsigned(&serde_json::json!({"exp": 1_700_000_000.5}));
        assert_eq!(expiry(&fraction), expiry(&t));
    }

    #[test]
    fn tokens_that_say_nothing_have_no_expiry() {
        for t in [
            "s3cret-token",
            "a.b.c",
            "a.b.c.d",
            "",
            "..",
            &unsigned(&serde_json::json!({"sub": "alice"})),
            &unsigned(&serde_json::json!({"exp": "tomorrow"})),
            &unsigned(&serde_json::json!({"exp": 1e300})),
        ] {
            assert_eq!(expiry(t), None, "{t}");
            assert!(!expired(t, jiff::Timestamp::now()), "{t}");
        }
    }
}
