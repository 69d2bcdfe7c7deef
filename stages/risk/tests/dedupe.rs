//! Duplicate trace ids: detected across the window, forgotten after it.

mod util;

use tradeflow_core::DenialCode;
use tradeflow_risk::RiskConfig;
use util::*;

fn harness(window: usize) -> Harness {
    let mut c = RiskConfig::default();
    c.guard.dedupe_window = window;
    Harness::new(c)
}

fn trace(s: &str) -> Sig {
    // An unknown model: denied after the duplicate check, so positions never fill up.
    Sig { trace: Some(s.to_owned()), model: 5, ..Sig::default() }
}

#[test]
fn duplicate_detected_anywhere_in_the_window() {
    let mut h = harness(8);
    h.send(Sig { trace: Some("first".into()), ..Sig::default() }).approved();
    for i in 0..7 {
        h.send(trace(&format!("other-{i}"))).denied();
    }
    // "first" is the oldest of the last 8 ids: still remembered.
    let d = h.send(Sig { trace: Some("first".into()), ..Sig::default() }).denied();
    assert_eq!(d.code, DenialCode::DuplicateTraceId);
    // A duplicate is not recorded again, so it does not push anything out.
    h.send(Sig { trace: Some("other-0".into()), ..Sig::default() }).denied();
    assert_eq!(
        h.send(Sig { trace: Some("first".into()), ..Sig::default() }).code(),
        Some(DenialCode::DuplicateTraceId)
    );
}

#[test]
fn forgotten_after_the_window() {
    let mut h = harness(8);
    h.send(Sig { trace: Some("first".into()), ..Sig::default() }).approved();
    for i in 0..8 {
        h.send(trace(&format!("other-{i}"))).denied();
    }
    // Eight newer ids have pushed "first" out.
    h.send(Sig { trace: Some("first".into()), ..Sig::default() }).approved();
    // "first" pushed out "other-0"; "other-1" ..= "other-7" are still remembered.
    h.send(Sig { trace: Some("other-0".into()), ..Sig::default() }).approved();
    for i in 2..8 {
        let o = h.send(Sig { trace: Some(format!("other-{i}")), ..Sig::default() });
        assert_eq!(o.code(), Some(DenialCode::DuplicateTraceId), "other-{i}");
    }
}

#[test]
fn large_window_remembers_many_ids() {
    let mut h = harness(1024);
    for i in 0..1024 {
        h.send(trace(&format!("id-{i}"))).denied();
    }
    for i in (0..1024).step_by(97) {
        assert_eq!(h.send(trace(&format!("id-{i}"))).code(), Some(DenialCode::DuplicateTraceId), "id-{i}");
    }
    h.send(trace("id-new")).denied();
    // id-0 was the oldest: now forgotten (denied for its model, not as a duplicate).
    assert_eq!(h.send(trace("id-0")).code(), Some(DenialCode::ModelNotAllowed));
}
