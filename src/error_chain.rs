//! An error with its causes on one line. tonic's transport errors say only "transport
//! error" at the top; what went wrong (refused, reset, not HTTP/2, a bad key) is further
//! down the `source()` chain.

/// `e` and its sources, `: `-separated, each cause added unless the text so far already
/// says it.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct E(&'static str, #[source] Option<Box<E>>);

    #[test]
    fn causes_are_added_once() {
        let e = E(
            "transport error",
            Some(Box::new(E("connection reset", Some(Box::new(E("reset", None)))))),
        );
        assert_eq!(super::chain(&e), "transport error: connection reset");
        assert_eq!(super::chain(&E("alone", None)), "alone");
    }
}
