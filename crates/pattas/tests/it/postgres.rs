//! The store on PostgreSQL as the nodes of a cluster share it: opening and
//! migrating, two handles on one database standing for two nodes, and the
//! copy of a centre's SQLite store into it. Each test has a database of its
//! own; without PostgreSQL they print `skipped: ...` and pass.

use satria_auth::{Principal, Role};
use satria_pattas::*;
use serde_json::json;

use crate::support::*;

fn beneficiary(p: &Pattas, who: &Principal, body: serde_json::Value) -> Beneficiary {
    p.create_beneficiary(who, serde_json::from_value(body).unwrap(), T0)
        .unwrap()
}

fn case_for(p: &Pattas, who: &Principal, beneficiary_id: i64) -> Result<Case, PattasError> {
    p.report_case(
        who,
        serde_json::from_value(
            json!({"beneficiary_id": beneficiary_id, "needs": ["transport"], "description": "x"}),
        )
        .unwrap(),
        T0,
    )
}

/// Everything an officer can read of a store, to compare two stores.
fn everything(p: &Pattas) -> serde_json::Value {
    let officer = officer();
    let all = BeneficiaryQuery {
        limit: Some(500),
        ..BeneficiaryQuery::default()
    };
    let bs = p.list_beneficiaries(&officer, &all).unwrap();
    let q = CaseQuery {
        limit: Some(500),
        ..CaseQuery::default()
    };
    let cases = p.list_cases(&officer, &q, T0).unwrap();
    let case_details: Vec<CaseDetail> = cases
        .iter()
        .map(|c| p.case(&officer, c.id, T0).unwrap())
        .collect();
    let beneficiary_details: Vec<BeneficiaryDetail> = bs
        .iter()
        .map(|b| p.beneficiary(&officer, b.id).unwrap())
        .collect();
    let range = RangeQuery::default();
    json!({
        "beneficiaries": bs,
        "cases": case_details,
        "beneficiary_details": beneficiary_details,
        "case_report": p.case_report(&range, T0).unwrap(),
        "assistance_report": p.assistance_report(&range).unwrap(),
    })
}

#[test]
fn reopening_migrates_nothing_and_a_newer_schema_is_refused() {
    let Some(place) = Place::new(Backend::Postgres) else {
        return;
    };
    let Place::Postgres(pg) = &place else {
        unreachable!()
    };
    let p = place.pattas();
    assert_eq!(p.schema_version().unwrap(), PG_SCHEMA_VERSION);
    let tables = pg.db().table_count();
    let b = beneficiary(&p, &officer(), sukarti());
    drop(p);
    // Reopened: the migrations (plain CREATEs) are not run again, nothing is lost.
    let p = place.pattas();
    assert_eq!(p.schema_version().unwrap(), PG_SCHEMA_VERSION);
    assert_eq!(pg.db().table_count(), tables);
    assert_eq!(p.beneficiary(&officer(), b.id).unwrap().beneficiary, b);
    drop(p);
    // A schema from a newer build is refused and left as it is.
    place.set_schema_version(PG_SCHEMA_VERSION + 1);
    let e = place.open(PattasConfig::default()).unwrap_err();
    assert!(e.to_string().contains("newer"), "{e}");
    let version: i64 = pg
        .db()
        .client()
        .query_one("SELECT version FROM pattas_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, PG_SCHEMA_VERSION + 1);
    assert_eq!(pg.db().table_count(), tables);
}

#[test]
fn an_unreachable_database_is_named_without_its_password() {
    let url = "postgres://satria:geheim@127.0.0.1:1/none?connect_timeout=1";
    let e = Pattas::open_postgres(url, PattasConfig::default())
        .unwrap_err()
        .to_string();
    assert!(!e.contains("geheim") && e.contains("127.0.0.1:1"), "{e}");
}

#[test]
fn two_nodes_on_one_database_see_each_others_writes() {
    let Some(place) = Place::new(Backend::Postgres) else {
        return;
    };
    let (a, b) = (place.pattas(), place.pattas());
    let officer = officer();
    let s = beneficiary(&a, &officer, sukarti());
    let c = case_for(&a, &officer, s.id).unwrap();
    // What one node wrote, the other reads, and changes.
    assert_eq!(b.case(&officer, c.id, T0).unwrap().case.status, "reported");
    b.verify_case(&officer, c.id, None, T0 + H).unwrap();
    assert_eq!(a.case(&officer, c.id, T0).unwrap().case.status, "verified");
    // Its rules hold across nodes: one beneficiary per NIK, one open case.
    let again: NewBeneficiary = serde_json::from_value(sukarti()).unwrap();
    assert_eq!(
        b.create_beneficiary(&officer, again, T0)
            .unwrap_err()
            .code(),
        "duplicate_nik"
    );
    assert_eq!(
        case_for(&b, &officer, s.id).unwrap_err().code(),
        "open_case_exists"
    );
    // Two nodes reporting a case for the same beneficiary at once: the write
    // lock serialises them, so exactly one succeeds.
    let d = beneficiary(&a, &officer, darsono());
    let outcomes: Vec<Result<Case, PattasError>> = std::thread::scope(|scope| {
        let runs: Vec<_> = [&a, &b]
            .into_iter()
            .map(|node| scope.spawn(|| case_for(node, &officer, d.id)))
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let codes: Vec<&str> = outcomes
        .iter()
        .map(|r| r.as_ref().map_or_else(PattasError::code, |_| "ok"))
        .collect();
    assert!(
        codes.contains(&"ok") && codes.contains(&"open_case_exists"),
        "{codes:?}"
    );
    let q = CaseQuery {
        beneficiary_id: Some(d.id),
        ..CaseQuery::default()
    };
    assert_eq!(a.list_cases(&officer, &q, T0).unwrap().len(), 1);
    assert_eq!(everything(&a), everything(&b));
}

/// A SQLite store with data in every table: the demo (cases in every state,
/// assistance, history) and a booked transport.
fn centre() -> (Place, Pattas) {
    let place = Place::new(Backend::Sqlite).unwrap();
    let p = place.pattas();
    p.seed_demo(T0).unwrap();
    let officer = officer();
    let q = CaseQuery {
        status: Some("in_assistance".into()),
        ..CaseQuery::default()
    };
    let case = &p.list_cases(&officer, &q, T0).unwrap()[0];
    let input: NewTransport = serde_json::from_value(transport_body(T0 + H)).unwrap();
    let (req, _) = p.transport_request(&officer, case.id, input, T0).unwrap();
    let ticket = TransportTicket {
        transport_id: "TR-7".into(),
    };
    p.record_transport(&officer, &req, &ticket, T0).unwrap();
    (place, p)
}

#[test]
fn a_centres_store_copies_into_the_cluster_once() {
    let Some(cluster_place) = Place::new(Backend::Postgres) else {
        return;
    };
    let (_local_place, local) = centre();
    let cluster = cluster_place.pattas();
    let before = everything(&local);
    let r = local.copy_into(&cluster).unwrap();
    let cases = before["cases"].as_array().unwrap();
    let history: usize = cases
        .iter()
        .map(|c| c["history"].as_array().unwrap().len())
        .sum::<usize>()
        + before["beneficiary_details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["history"].as_array().unwrap().len())
            .sum::<usize>();
    let assistance: usize = cases
        .iter()
        .map(|c| c["assistance"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        r,
        PattasCopyReport {
            beneficiaries: before["beneficiaries"].as_array().unwrap().len() as u64,
            cases: cases.len() as u64,
            assistance: assistance as u64,
            transports: 1,
            history: history as u64,
            already: false,
        }
    );
    assert!(r.beneficiaries > 0 && r.assistance > 0);
    // The same records under the same ids, on the other database.
    assert_eq!(everything(&cluster), before);

    // A second run finds its own copy and writes nothing.
    let again = local.copy_into(&cluster).unwrap();
    assert!(again.already, "{again:?}");
    assert_eq!((again.beneficiaries, again.cases, again.history), (0, 0, 0));
    assert_eq!(everything(&cluster), before);

    // New records get ids after the copied ones.
    let officer = officer();
    let max_b = r.beneficiaries as i64;
    let n = beneficiary(&cluster, &officer, sukarti());
    assert_eq!(n.id, max_b + 1);
    let c = case_for(&cluster, &officer, n.id).unwrap();
    assert_eq!(c.id, r.cases as i64 + 1);
    let max_history = before["cases"]
        .as_array()
        .unwrap()
        .iter()
        .chain(before["beneficiary_details"].as_array().unwrap())
        .flat_map(|d| d["history"].as_array().unwrap())
        .map(|h| h["id"].as_i64().unwrap())
        .max()
        .unwrap();
    let h = &cluster.case(&officer, c.id, T0).unwrap().history;
    assert!(h.iter().all(|h| h.id > max_history), "{h:?}");
    cluster.verify_case(&officer, c.id, None, T0 + H).unwrap();
    let a = cluster
        .add_assistance(
            &officer,
            c.id,
            serde_json::from_value(
                json!({"date": "2026-12-01", "kind": "transport", "amount_rp": 1000}),
            )
            .unwrap(),
            T0 + H,
        )
        .unwrap();
    assert_eq!(a.id, r.assistance as i64 + 1);

    // Now the cluster holds more than the centre: a copy is refused, and
    // so is another centre's, and nothing changes.
    let after = everything(&cluster);
    let e = local.copy_into(&cluster).unwrap_err().to_string();
    assert!(
        e.contains("holds other Pattas data") && e.contains("pattas_beneficiaries"),
        "{e}"
    );
    let other_place = Place::new(Backend::Sqlite).unwrap();
    let other = other_place.pattas();
    beneficiary(&other, &officer, darsono());
    let e = other.copy_into(&cluster).unwrap_err().to_string();
    assert!(e.contains("holds other Pattas data"), "{e}");
    assert_eq!(everything(&cluster), after);
}

#[test]
fn a_copy_into_a_store_holding_other_data_changes_nothing() {
    let Some(cluster_place) = Place::new(Backend::Postgres) else {
        return;
    };
    let cluster = cluster_place.pattas();
    let mitra = Principal {
        username: "mitra1".into(),
        role: Role::PattasMitra,
        ..officer()
    };
    beneficiary(&cluster, &mitra, darsono());
    let before = everything(&cluster);
    let (_local_place, local) = centre();
    let e = local.copy_into(&cluster).unwrap_err().to_string();
    assert!(e.contains("nothing was copied"), "{e}");
    assert_eq!(everything(&cluster), before);
    // An empty source is no exception: the target is not its copy.
    let empty_place = Place::new(Backend::Sqlite).unwrap();
    let e = empty_place
        .pattas()
        .copy_into(&cluster)
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds other Pattas data"), "{e}");
    assert_eq!(everything(&cluster), before);
}
