use super::*;

#[test]
fn three_participants_keep_the_pairs_of_the_large_scenario() {
    let got: Vec<(usize, String, usize, String)> = pairs(3)
        .into_iter()
        .map(|p| (p.payer_at, p.payer, p.owner_at, p.owner))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "Alice".into(), 1, "Bob".into()),
            (1, "Erin".into(), 2, "Carol".into()),
            (2, "Frank".into(), 0, "Dave".into()),
            (0, "Dave".into(), 1, "Erin".into()),
        ]
    );
}

#[test]
fn every_pair_spans_two_participants_and_every_participant_takes_part() {
    for k in 2..=MAX_PARTICIPANTS {
        let ps = pairs(k);
        assert_eq!(ps.len(), k + 1);
        for p in &ps {
            assert_ne!(p.payer_at, p.owner_at, "k = {k}");
            assert!(parties_of(p.payer_at).contains(&p.payer));
            assert!(parties_of(p.owner_at).contains(&p.owner));
        }
        for i in 0..k {
            assert!(ps.iter().any(|p| p.payer_at == i) && ps.iter().any(|p| p.owner_at == i));
        }
    }
}

#[test]
fn divergence_rounds_once_and_splits_evenly() {
    let shape = Shape {
        contracts: 2_000,
        participants: 4,
        divergence: 0.05,
    };
    assert_eq!(
        shape.diverged(),
        Diverged {
            archived: 34,
            missing: 33,
            mismatched: 33
        }
    );
    let work = plan(&shape, 5);
    assert_eq!(work.iter().map(|w| w.bulk).sum::<usize>(), 2_000 - 66);
    assert_eq!(work.iter().map(|w| w.archived).sum::<usize>(), 34);
    assert!(work.iter().all(|w| w.archived <= w.bulk));
    let all = Shape {
        divergence: 1.0,
        ..shape
    };
    assert!(plan(&all, 5).iter().all(|w| w.archived <= w.bulk));
    let none = Shape {
        divergence: 0.0,
        ..shape
    };
    assert_eq!(none.diverged(), Diverged::default());
    assert_eq!(
        plan(&none, 5).iter().map(Work::diverging_transactions).sum::<usize>(),
        0
    );
}

#[test]
fn a_bulk_transaction_carries_as_many_creates_as_fit_in_one_request() {
    for hint in ["Alice".to_string(), "p".repeat(300), "q".repeat(3 << 20)] {
        let payer = ids::party_id(&hint, "participant1");
        let owner = ids::party_id(&format!("{hint}2"), "participant2");
        let k = creates_per_transaction(&payer, &owner);
        let created: Vec<ContractBlob> = (0..k)
            .map(|n| bulk_contract(&payer, &owner, n, 99).expect("an Iou"))
            .collect();
        let tx = crate::wire::lab::LabTransaction {
            created,
            ..Default::default()
        };
        let bytes = tx.encoded_len();
        assert!(
            k == 1 || bytes <= crate::batch::REQUEST_BYTES,
            "{k} creates take {bytes} bytes"
        );
        assert!(bytes < 4 << 20 || k == 1, "under tonic's default message limit");
        if hint.len() < 10 {
            assert!(k >= 1000, "short party ids: {k} creates per transaction");
            assert!(bytes > crate::batch::REQUEST_BYTES * 9 / 10, "nearly full: {bytes}");
        }
    }
}

#[test]
fn bad_shapes_are_refused_in_one_line() {
    let ok = Shape {
        contracts: 10,
        participants: 3,
        divergence: 0.0,
    };
    assert!(ok.validate().is_ok());
    for bad in [
        Shape { contracts: 0, ..ok },
        Shape { participants: 1, ..ok },
        Shape {
            participants: MAX_PARTICIPANTS + 1,
            ..ok
        },
        Shape { divergence: -0.1, ..ok },
        Shape { divergence: 1.5, ..ok },
        Shape {
            divergence: f64::NAN,
            ..ok
        },
    ] {
        let e = bad.validate().expect_err("refused");
        assert!(!e.contains('\n') && e.starts_with("--"), "{e}");
    }
}
