//! `aistagram check` covers the queues the background tasks read (scheduled posts' due times,
//! agents' webhook lists, deliveries' due times) and the images' perceptual-hash copies, and
//! finds queued work whose owner is gone (and vote times whose vote is gone); `--repair` rebuilds
//! them from their primary rows.

use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};
use serde_json::json;

use aistagram::domain::MediaHash;

use crate::admin::{admin, json_of};
use crate::harness::{TestApp, quiet_config};

// The tables as the file stores them, named as `store::tables` names them.
const SCHEDULE_DUE: TableDefinition<(i64, u128), ()> = TableDefinition::new("schedule_due-v1");
const AGENT_WEBHOOKS: TableDefinition<(u64, u128), ()> = TableDefinition::new("agent_webhooks-v1");
const WEBHOOK_DUE: TableDefinition<(i64, u64), ()> = TableDefinition::new("webhook_due-v1");
const PHASHES: TableDefinition<MediaHash, u64> = TableDefinition::new("phashes-v1");
const WEBHOOKS: TableDefinition<u128, &[u8]> = TableDefinition::new("webhooks-v1");
const VOTE_TIMES: TableDefinition<(u64, u64), i64> = TableDefinition::new("vote_times-v1");

#[tokio::test]
async fn check_covers_the_scheduler_and_webhook_queues_and_repair_rebuilds_them() {
    let app = TestApp::spawn_with(|c| c.media.allow_private_fetch = true).await;
    let owner = app.native.register("owner").await;
    let fan = app.native.register("fan").await;
    let post = app.native.publish(&owner, "liked").await;
    let later = json!({
        "image_b64": crate::harness::small_png_b64(),
        "caption": "tomorrow",
        "publish_at": "2099-01-01T00:00:00Z",
    });
    let queued = app.native.create_post(&owner, later).await;
    assert_eq!(queued.data(201)["scheduled"], true);
    // A webhook on a closed loopback port: its delivery fails and stays queued for a retry.
    let hook = json!({ "url": "http://127.0.0.1:9/hook", "events": ["post.liked"] });
    app.aispace.add_webhook(&owner, hook).await.ok(201);
    app.aispace.like(&fan, &post).await.ok(200);
    let dir = app.stop().await;
    let path = dir.path().to_owned();
    let clean = json_of(&admin(&path, &["check", "--json"]).await);
    assert_eq!(clean["ok"], true, "a healthy database passes: {clean}");

    {
        let db = redb::Database::open(path.join("aistagram.redb")).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut due = tx.open_table(SCHEDULE_DUE).unwrap();
            let (at, id) = due.first().unwrap().expect("a queued post").0.value();
            due.remove((at, id)).unwrap();
            let mut hooks = tx.open_table(AGENT_WEBHOOKS).unwrap();
            hooks.insert((1, 424242), ()).unwrap();
            let mut deliveries = tx.open_table(WEBHOOK_DUE).unwrap();
            let (at, seq) = deliveries
                .first()
                .unwrap()
                .expect("a queued delivery")
                .0
                .value();
            deliveries.remove((at, seq)).unwrap();
            deliveries.insert((at + 1, seq), ()).unwrap();
            let mut phashes = tx.open_table(PHASHES).unwrap();
            let (hash, phash) = {
                let (k, v) = phashes.first().unwrap().expect("an image");
                (k.value(), v.value())
            };
            phashes.insert(hash, phash ^ 1).unwrap();
            // A webhook whose agent does not exist.
            let mut webhooks = tx.open_table(WEBHOOKS).unwrap();
            let (_, record) = {
                let (k, v) = webhooks.first().unwrap().expect("a webhook");
                (k.value(), v.value().to_vec())
            };
            let mut orphan: aistagram::store::records::WebhookRecord =
                aistagram::store::codec::decode(&record).unwrap();
            orphan.id = 777;
            orphan.agent = 999;
            let bytes = aistagram::store::codec::encode(&orphan).unwrap();
            webhooks.insert(777, bytes.as_slice()).unwrap();
            // The time of a vote that is not there.
            let mut times = tx.open_table(VOTE_TIMES).unwrap();
            assert_eq!(times.len().unwrap(), 1, "the fan's like has its time");
            times.insert((999, 1), 1_800_000_000_000).unwrap();
        }
        tx.commit().unwrap();
    }
    let out = admin(&path, &["check", "--json"]).await;
    assert!(!out.status.success(), "problems make check fail");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = report["problems"].to_string();
    for expected in [
        "scheduled posts' due times",
        "agents' webhook lists",
        "webhook deliveries' due times",
        "image perceptual hashes",
        "1 webhooks",
        "1 vote times",
    ] {
        assert!(problems.contains(expected), "{expected} not in {problems}");
    }
    let fixed = json_of(&admin(&path, &["check", "--repair", "--json"]).await);
    assert_eq!(fixed["remaining"], json!([]), "{fixed}");
    let clean = json_of(&admin(&path, &["check", "--json"]).await);
    assert_eq!(clean["ok"], true, "{clean}");

    // The rebuilt queue still holds the scheduled post: its author sees it, and can cancel it.
    let app = TestApp::start(quiet_config(path.clone()), dir).await;
    let r = app.aispace.scheduled(&owner).await;
    assert_eq!(r.ok(200)["items"].as_array().map(Vec::len), Some(1));
    let r = app.aispace.webhooks(&owner).await;
    assert_eq!(r.ok(200)["webhooks"].as_array().map(Vec::len), Some(1));
}
