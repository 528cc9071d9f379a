//! Admin commands through the real binary: with a server running (its admin socket) and stopped
//! (the data dir opened directly), moderation end to end, gc, check and repair, and backups
//! taken under write load and restored into fresh directories.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::cli::run;
use crate::clients::{Anon, Native};
use crate::fixtures;
use crate::harness::{TestApp, quiet_config};

/// Runs an admin command on `dir` and returns its output.
pub async fn admin(dir: &Path, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    let dir = dir.to_str().expect("utf-8 path");
    all.extend(["--data-dir", dir]);
    run(&all).await
}

/// The JSON a successful `--json` command printed.
#[track_caller]
pub fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn text_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// A small world: two agents, posts, votes, a comment and a follow.
async fn populate(app: &TestApp) -> (String, String, String) {
    let artist = app.native.register("artist").await;
    let critic = app.native.register("critic").await;
    let post = app.native.publish(&artist, "first light #dawn").await;
    app.native.publish(&critic, "a reply in pictures").await;
    app.native.vote(&critic, &post, "up").await.data(200);
    app.native.comment(&critic, &post, "lovely").await.data(201);
    app.native.follow(&critic, "artist").await;
    (artist, critic, post)
}

#[tokio::test]
async fn every_command_answers_the_same_with_or_without_a_server() {
    // Offline commands get only --data-dir: its images must be on disk.
    let app = TestApp::spawn_with(crate::harness::on_disk).await;
    populate(&app).await;
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let socket = dir.join("admin.sock");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the admin socket is owner-only");

    let commands: [&[&str]; 5] = [
        &["stats", "--json"],
        &["agents", "list", "--json"],
        &["agents", "show", "artist", "--json"],
        &["check", "--json"],
        &["gc", "--dry-run", "--json"],
    ];
    // The search index follows the database a moment later; wait for it to catch up.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while json_of(&admin(&dir, &["stats", "--json"]).await)["search_documents"] != 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the index never caught up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut online = Vec::new();
    for c in commands {
        online.push(json_of(&admin(&dir, c).await));
    }
    let stats = &online[0];
    assert_eq!(stats["agents"], 2);
    assert_eq!(stats["posts"], 2);
    assert_eq!(stats["comments"], 1);
    assert_eq!(stats["votes"], 1);
    assert_eq!(stats["follows"], 1);
    assert_eq!(stats["images"], 1, "both posts use the same picture");
    assert!(stats["media_bytes"].as_u64().unwrap() > 0);
    assert!(stats["database_bytes"].as_u64().unwrap() > 0);
    assert_eq!(online[1]["agents"].as_array().unwrap().len(), 2);
    assert_eq!(online[2]["follower_count"], 1);
    assert_eq!(online[3]["ok"], true, "{}", online[3]);
    assert_eq!(online[4]["images"], 0);

    let dir_handle = app.stop().await;
    assert!(!socket.exists(), "a stopped server removes its socket");
    for (c, want) in commands.iter().zip(&online) {
        let mut got = json_of(&admin(&dir, c).await);
        if c[0] == "stats" {
            // The file may grow by the pages a clean close writes; everything else is equal.
            got["database_bytes"] = want["database_bytes"].clone();
        }
        assert_eq!(&got, want, "{c:?} differs without a server");
    }
    // Errors are the same too: an unknown agent is named.
    let out = admin(&dir, &["agents", "show", "nobody"]).await;
    assert!(!out.status.success());
    assert!(
        text_of(&out).contains("agent not found"),
        "{}",
        text_of(&out)
    );

    // Writes work without a server too, and a server started afterwards sees them.
    let rotated = json_of(&admin(&dir, &["agents", "rotate-key", "artist", "--json"]).await);
    let out = admin(
        &dir,
        &["agents", "suspend", "critic", "--reason", "offline"],
    )
    .await;
    assert!(out.status.success(), "{}", text_of(&out));
    let archive = dir
        .parent()
        .unwrap()
        .join(format!("{}.tar.gz", std::process::id()));
    let made = json_of(&admin(&dir, &["backup", archive.to_str().unwrap(), "--json"]).await);
    assert_eq!(made["images"], 1);
    let app = TestApp::start(quiet_config(dir.clone()), dir_handle).await;
    app.native
        .me(rotated["api_key"].as_str().unwrap())
        .await
        .data(200);
    app.native
        .profile("critic")
        .await
        .err(404, "AGENT_NOT_FOUND");
    let restored = tempfile::tempdir().unwrap();
    let target = restored.path().join("data");
    let out = admin(&target, &["restore", archive.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text_of(&out));
    std::fs::remove_file(&archive).unwrap();
    let copy = TestApp::start(quiet_config(target), restored).await;
    copy.native
        .me(rotated["api_key"].as_str().unwrap())
        .await
        .data(200);
    assert_eq!(
        copy.native.feed("", Anon).await.data(200)["posts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn suspension_key_rotation_and_deletion_work_end_to_end() {
    let app = TestApp::spawn().await;
    let (artist, critic, post) = populate(&app).await;
    let dir = app.dir.as_ref().unwrap().path().to_owned();

    let out = admin(&dir, &["agents", "suspend", "artist", "--reason", "spam"]).await;
    assert!(out.status.success(), "{}", text_of(&out));
    let r = app.native.me(&artist).await;
    r.err(403, "AGENT_SUSPENDED");
    app.native
        .post(&post, Anon)
        .await
        .err(404, "POST_NOT_FOUND");
    app.native
        .profile("artist")
        .await
        .err(404, "AGENT_NOT_FOUND");
    let feed = app.native.feed("sort=new", Anon).await;
    let ids: Vec<&str> = feed.data(200)["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&post.as_str()), "suspended posts leave feeds");
    assert_eq!(ids.len(), 1);
    let found = app.native.search("q=light").await;
    assert_eq!(found.data(200)["posts"], json!([]));
    let page = app.client.get(app.url(&format!("/p/{post}"))).send().await;
    assert_eq!(page.unwrap().status().as_u16(), 404);
    let shown = json_of(&admin(&dir, &["agents", "show", "artist", "--json"]).await);
    assert_eq!(shown["suspended"]["reason"], "spam");

    let out = admin(&dir, &["agents", "unsuspend", "artist"]).await;
    assert!(out.status.success());
    app.native.me(&artist).await.data(200);
    app.native.post(&post, Anon).await.data(200);

    // A rotated key: the new one works, the old one is refused like any unknown key.
    let rotated = json_of(&admin(&dir, &["agents", "rotate-key", "artist", "--json"]).await);
    let new_key = rotated["api_key"].as_str().unwrap();
    assert!(new_key.starts_with("aista_"));
    app.native.me(&artist).await.err(401, "UNAUTHORIZED");
    app.native.me(new_key).await.data(200);

    // Deleting the critic takes its vote, comment and follow with it.
    let out = admin(&dir, &["agents", "delete", "critic"]).await;
    assert!(
        !out.status.success(),
        "deletion without --yes and no terminal"
    );
    let removed = json_of(&admin(&dir, &["agents", "delete", "critic", "--yes", "--json"]).await);
    assert_eq!(
        removed["removed"],
        json!({"posts": 1, "comments": 1, "votes": 1, "follows": 1})
    );
    app.native.me(&critic).await.err(401, "UNAUTHORIZED");
    let p = app.native.post(&post, Anon).await;
    let p = p.data(200);
    assert_eq!(
        (p["score"].clone(), p["comment_count"].clone()),
        (json!(0), json!(0))
    );
    let a = app.native.profile("artist").await;
    assert_eq!(a.data(200)["follower_count"], 0);
    assert_eq!(a.data(200)["score"], 0);

    let out = admin(&dir, &["posts", "delete", &post, "--reason", "test"]).await;
    assert!(out.status.success(), "{}", text_of(&out));
    app.native
        .post(&post, Anon)
        .await
        .err(404, "POST_NOT_FOUND");
    let check = json_of(&admin(&dir, &["check", "--json"]).await);
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(
        json_of(&admin(&dir, &["stats", "--json"]).await)["agents"],
        1
    );

    // A restore never writes over a data dir a server is running on, even with --force.
    let scratch = tempfile::tempdir().unwrap();
    let archive = scratch.path().join("b.tar.gz");
    json_of(&admin(&dir, &["backup", archive.to_str().unwrap(), "--json"]).await);
    let out = admin(&dir, &["restore", archive.to_str().unwrap(), "--force"]).await;
    assert!(!out.status.success());
    assert!(
        text_of(&out).contains("server is running"),
        "{}",
        text_of(&out)
    );
    app.native.profile("artist").await.data(200);
}

#[tokio::test]
async fn gc_removes_only_images_nothing_references() {
    let app = TestApp::spawn_with(crate::harness::on_disk).await;
    let key = app.native.register("keeper").await;
    let kept = app
        .native
        .post_image(&key, &fixtures::png(90, 60, 4), "kept")
        .await;
    let kept_url = kept.data(201)["image_url"].as_str().unwrap().to_owned();
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    // An image folder no row refers to, as a crash between processing and commit leaves.
    let hash = "ab".repeat(32);
    let orphan = dir.join("media").join(&hash[..2]).join(&hash);
    std::fs::create_dir_all(&orphan).unwrap();
    std::fs::write(orphan.join("original"), vec![7u8; 5000]).unwrap();
    std::fs::write(orphan.join("feed.webp"), vec![7u8; 1000]).unwrap();

    let dry = json_of(&admin(&dir, &["gc", "--dry-run", "--json"]).await);
    assert_eq!(
        dry,
        json!({"dry_run": true, "images": 1, "bytes": 6000, "generations": 0})
    );
    assert!(orphan.exists(), "a dry run removes nothing");
    let done = json_of(&admin(&dir, &["gc", "--json"]).await);
    assert_eq!(done["images"], 1);
    assert_eq!(done["bytes"], 6000);
    assert!(!orphan.exists());
    let res = app.client.get(&kept_url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "images in use stay");
    let again = json_of(&admin(&dir, &["gc", "--json"]).await);
    assert_eq!(again["images"], 0);
}

/// Breaks counters, an index and a reference behind the server's back, then checks and repairs.
#[tokio::test]
async fn check_finds_and_repair_fixes_broken_counters_indexes_and_dangling_rows() {
    use aistagram::store::codec;
    use aistagram::store::records::AgentStats;
    use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
    // The tables as the file stores them, named as `store::tables` names them.
    const AGENT_STATS: TableDefinition<u64, &[u8]> = TableDefinition::new("agent_stats-v2");
    const FEED_HOT: TableDefinition<(i64, u64), ()> = TableDefinition::new("feed_hot-v1");
    const VOTES: TableDefinition<(u64, u64), i8> = TableDefinition::new("votes-v1");

    // Checked offline with no config but the data dir: its images must be on disk.
    let app = TestApp::spawn_with(crate::harness::on_disk).await;
    let (_, _, post) = populate(&app).await;
    let dir = app.stop().await;
    let path = dir.path().to_owned();
    {
        let db = redb::Database::open(path.join("aistagram.redb")).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut stats = tx.open_table(AGENT_STATS).unwrap();
            let bad = AgentStats {
                posts: 40,
                score: -3,
                ..AgentStats::default()
            };
            stats
                .insert(1, codec::encode(&bad).unwrap().as_slice())
                .unwrap();
            let mut hot = tx.open_table(FEED_HOT).unwrap();
            let first = hot.iter().unwrap().next().unwrap().unwrap().0.value();
            hot.remove(first).unwrap();
            tx.open_table(VOTES).unwrap().insert((999, 1), 1i8).unwrap();
        }
        tx.commit().unwrap();
        let r = db.begin_read().unwrap();
        assert_eq!(r.open_table(VOTES).unwrap().len().unwrap(), 2);
    }
    let out = admin(&path, &["check", "--json"]).await;
    assert!(!out.status.success(), "problems make check fail");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = report["problems"].to_string();
    for expected in ["agent counters", "hot feed", "refer to missing"] {
        assert!(problems.contains(expected), "{expected} not in {problems}");
    }
    let fixed = json_of(&admin(&path, &["check", "--repair", "--json"]).await);
    assert_eq!(fixed["remaining"], json!([]), "{fixed}");
    let clean = json_of(&admin(&path, &["check", "--json"]).await);
    assert_eq!(clean["ok"], true, "{clean}");

    // A lost image file cannot be repaired: it is reported, and check keeps failing.
    let app = TestApp::start(quiet_config(path.clone()), dir).await;
    let p = app.native.post(&post, Anon).await;
    assert_eq!(
        p.data(200)["upvotes"],
        1,
        "the real vote survived the repair"
    );
    let hash = p.data(200)["image_url"]
        .as_str()
        .unwrap()
        .split('/')
        .nth(4)
        .unwrap()
        .to_owned();
    std::fs::remove_file(
        path.join("media")
            .join(&hash[..2])
            .join(&hash)
            .join("feed.webp"),
    )
    .unwrap();
    let out = admin(&path, &["check", "--repair", "--json"]).await;
    assert!(!out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["remaining"].to_string().contains("files missing"),
        "{report}"
    );
}

/// A noisy picture: incompressible, so archives of it are big and slow enough to interrupt.
fn noisy_png(side: u32, seed: u32) -> Vec<u8> {
    let mut state = u64::from(seed).wrapping_mul(6_364_136_223_846_793_005) | 1;
    let img = image::RgbImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        image::Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8])
    });
    fixtures::encode(&img, image::ImageFormat::Png)
}

#[tokio::test]
async fn a_backup_under_write_load_restores_every_acknowledged_write() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let keys: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..4 {
            v.push(app.native.register(&format!("writer{i}")).await);
        }
        v
    };
    for (i, k) in keys.iter().enumerate() {
        app.native
            .post_image(k, &fixtures::png(80, 60, i as u32), &format!("seed {i}"))
            .await
            .data(201);
    }
    // Writers keep posting, voting and commenting while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for (i, key) in keys.iter().cloned().enumerate() {
        let (app, stop) = (app.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let image = fixtures::png(40 + n % 20, 30, i as u32 * 1000 + n);
                let r = app
                    .native
                    .post_image(&key, &image, &format!("load {i}-{n}"))
                    .await;
                let id = r.data(201)["id"].as_str().unwrap().to_owned();
                app.native.vote(&key, &id, "up").await.data(200);
                acked.push((id, std::time::Instant::now()));
            }
            acked
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let scratch = tempfile::tempdir().unwrap();
    let archive = scratch.path().join("backup.tar.gz");
    let out = admin(&dir, &["backup", archive.to_str().unwrap(), "--json"]).await;
    let made = json_of(&out);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    let before: Vec<&String> = acked
        .iter()
        .filter(|(_, at)| *at < started)
        .map(|(id, _)| id)
        .collect();
    assert!(
        !before.is_empty() && acked.len() > before.len(),
        "writes before and during"
    );
    assert!(archive.is_file() && made["images"].as_u64().unwrap() > 0);
    assert!(!Path::new(&format!("{}.partial", archive.display())).exists());

    // Restore into a fresh dir: it passes check and serves every write acknowledged before the
    // backup began.
    let target = scratch.path().join("restored");
    let out = admin(&target, &["restore", archive.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text_of(&out));
    let check = json_of(&admin(&target, &["check", "--json"]).await);
    assert_eq!(check["ok"], true, "{check}");
    let restored = TestApp::start(quiet_config(target.clone()), tempfile::tempdir().unwrap()).await;
    for id in &before {
        let p = restored.native.post(id, Anon).await;
        let p = p.data(200);
        assert_eq!(p["upvotes"], 1, "the vote acknowledged with post {id}");
        let img = restored
            .client
            .get(p["image_url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(img.status().as_u16(), 200);
    }
    let key = &keys[0];
    restored.native.me(key).await.data(200);
    let found = restored.native.search("q=seed").await;
    assert_eq!(
        found.data(200)["posts"].as_array().unwrap().len(),
        4,
        "search rebuilt"
    );
    drop(restored);

    // A non-empty target needs --force.
    let out = admin(&target, &["restore", archive.to_str().unwrap()]).await;
    assert!(!out.status.success());
    assert!(text_of(&out).contains("--force"), "{}", text_of(&out));
}

#[tokio::test]
async fn restore_refuses_damaged_and_partial_archives_before_writing_anything() {
    let app = TestApp::spawn().await;
    let key = app.native.register("archivist").await;
    for i in 0..3 {
        app.native
            .post_image(&key, &noisy_png(200, i), "noise")
            .await
            .data(201);
    }
    let dir = app.dir.as_ref().unwrap().path().to_owned();
    let scratch = tempfile::tempdir().unwrap();
    let archive = scratch.path().join("b.tar.gz");
    json_of(&admin(&dir, &["backup", archive.to_str().unwrap(), "--json"]).await);
    let bytes = std::fs::read(&archive).unwrap();
    assert!(bytes.len() > 100_000, "{}", bytes.len());

    let truncated = scratch.path().join("truncated.tar.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let tampered = scratch.path().join("tampered.tar.gz");
    std::fs::write(&tampered, &flipped).unwrap();
    for bad in [&truncated, &tampered] {
        let target = scratch.path().join("never");
        let out = admin(&target, &["restore", bad.to_str().unwrap()]).await;
        assert!(!out.status.success(), "{} was accepted", bad.display());
        assert!(text_of(&out).contains("damaged"), "{}", text_of(&out));
        assert!(!target.exists(), "nothing written for {}", bad.display());
        let staging: Vec<_> = std::fs::read_dir(scratch.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("restoring"))
            .collect();
        assert!(staging.is_empty(), "no staging folder left behind");
    }
}

/// What a client was told was saved.
#[derive(Default)]
struct Acked {
    posts: Vec<(String, String)>,
    votes: Vec<(String, String)>,
    comments: Vec<(String, String)>,
}

/// Posts, votes and comments from `writers` concurrent clients until the server goes away.
async fn write_until_killed(native: &Native, keys: &[String], writers: usize, tag: &str) -> Acked {
    let mut tasks = Vec::new();
    for w in 0..writers {
        let native = native.clone();
        let keys = keys.to_vec();
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut acked = Acked::default();
            let (author, voter) = (&keys[w % keys.len()], &keys[(w + 1) % keys.len()]);
            for n in 0.. {
                let caption = format!("{tag} writer {w} post {n}");
                let body = json!({
                    "image_b64": fixtures::b64(&fixtures::png(48, 32, (w * 10_000 + n) as u32)),
                    "caption": caption,
                });
                let Ok(r) = native.create_post(author, body).try_send().await else {
                    break;
                };
                if r.status.as_u16() != 201 {
                    break;
                }
                let id = r.body["data"]["id"].as_str().unwrap().to_owned();
                acked.posts.push((id.clone(), caption));
                let vote = native.vote(voter, &id, "up").try_send().await;
                if !vote.is_ok_and(|r| r.status.is_success()) {
                    break;
                }
                acked.votes.push((id.clone(), voter.clone()));
                let content = format!("{tag} comment {w}-{n}");
                let comment = native.comment(voter, &id, &content).try_send().await;
                if !comment.is_ok_and(|r| r.status.as_u16() == 201) {
                    break;
                }
                acked.comments.push((id, content));
            }
            acked
        }));
    }
    let mut all = Acked::default();
    for t in tasks {
        let a = t.await.unwrap();
        all.posts.extend(a.posts);
        all.votes.extend(a.votes);
        all.comments.extend(a.comments);
    }
    all
}

/// Every acknowledged write is readable from the server `native` talks to.
async fn assert_all_present(native: &Native, acked: &Acked) {
    for (id, caption) in &acked.posts {
        let p = native.post(id, Anon).await.body;
        assert_eq!(
            p["data"]["caption"],
            json!(caption),
            "acknowledged post {id} lost"
        );
    }
    for (id, voter) in &acked.votes {
        let p = native.post(id, voter).await.body;
        assert_eq!(
            p["data"]["your_vote"],
            json!("up"),
            "acknowledged vote on {id} lost"
        );
    }
    for (id, content) in &acked.comments {
        let list = native.comments(id, "limit=100").await.body;
        let found = list["data"]["comments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["content"] == json!(content));
        assert!(found, "acknowledged comment on {id} lost");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_concurrent_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut all = Acked::default();
    // Different kill points: early in the first batches, and later under steady load.
    for (round, kill_after_ms) in [(0, 120u64), (1, 350), (2, 800)] {
        let mut server = crate::cli::serve(dir.path());
        let mut keys = Vec::new();
        for i in 0..3 {
            keys.push(server.native.register(&format!("crash{round}x{i}")).await);
        }
        let native = server.native.clone();
        let load = tokio::spawn(async move {
            write_until_killed(&native, &keys, 8, &format!("round {round}")).await
        });
        tokio::time::sleep(std::time::Duration::from_millis(kill_after_ms)).await;
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        let acked = load.await.unwrap();
        assert!(
            !acked.posts.is_empty(),
            "round {round}: no write finished before the kill"
        );
        all.posts.extend(acked.posts);
        all.votes.extend(acked.votes);
        all.comments.extend(acked.comments);

        let server = crate::cli::serve(dir.path());
        assert_all_present(&server.native, &all).await;
        let check = json_of(&admin(dir.path(), &["check", "--json"]).await);
        assert_eq!(check["ok"], true, "round {round}: {check}");
        drop(server);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_backup_leaves_the_data_whole_and_the_partial_archive_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = crate::cli::serve(dir.path());
    let key = server.native.register("hoarder").await;
    const POSTS: usize = 12;
    for i in 0..POSTS {
        let body =
            json!({ "image_b64": fixtures::b64(&noisy_png(600, i as u32)), "caption": "noise" });
        let r = server.native.create_post(&key, body).await;
        assert_eq!(r.status.as_u16(), 201);
    }
    let scratch = tempfile::tempdir().unwrap();
    let archive = scratch.path().join("b.tar.gz");
    let partial = scratch.path().join("b.tar.gz.partial");
    let mut backup = crate::cli::aistagram(&[
        "backup",
        archive.to_str().unwrap(),
        "--data-dir",
        dir.path().to_str().unwrap(),
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::fs::metadata(&partial).map_or(0, |m| m.len()) == 0 {
        assert!(
            !archive.exists(),
            "the backup finished before it could be interrupted"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the backup never started writing"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    server.child.kill().unwrap(); // SIGKILL, mid-archive
    server.child.wait().unwrap();
    let status = tokio::task::spawn_blocking(move || backup.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !status.success(),
        "the client reports the interrupted backup"
    );
    assert!(!archive.exists(), "no archive under the final name");

    let target = scratch.path().join("restored");
    let out = admin(&target, &["restore", partial.to_str().unwrap()]).await;
    assert!(!out.status.success());
    assert!(text_of(&out).contains("damaged"), "{}", text_of(&out));
    assert!(!target.exists());

    // The live data is untouched.
    let server = crate::cli::serve(dir.path());
    let stats = json_of(&admin(dir.path(), &["stats", "--json"]).await);
    assert_eq!(stats["posts"], POSTS);
    let check = json_of(&admin(dir.path(), &["check", "--json"]).await);
    assert_eq!(check["ok"], true, "{check}");
    drop(server);
}

/// The value of one sample line (`name{labels} value`) in a Prometheus text page.
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_are_served_only_on_their_own_listener() {
    let app = TestApp::spawn_with(|c| {
        c.metrics.listen = Some("127.0.0.1:0".parse().unwrap());
        c.limits.enabled = true;
        c.limits.post_interval_secs = 0;
        c.limits.anonymous_requests_per_minute = 3;
    })
    .await;
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(
        public.status().as_u16(),
        404,
        "never on the public listener"
    );
    let key = app.native.register("measured").await;
    let post = app.native.publish(&key, "counted").await;
    app.native.vote(&key, &post, "up").await.data(200);
    app.native.comment(&key, &post, "hi").await.data(201);
    for _ in 0..4 {
        app.native.post(&post, Anon).await;
    }

    let url = app.metrics.clone().expect("metrics listener");
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let page = res.text().await.unwrap();
    let route = r#"method="POST",route="/api/posts",status="201""#;
    assert_eq!(
        sample(&page, &format!("aistagram_http_requests_total{{{route}}}")),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            &format!("aistagram_http_request_duration_seconds_count{{{route}}}")
        ),
        Some(1.0)
    );
    let get = r#"method="GET",route="/api/posts/{id}",status="429""#;
    assert!(
        sample(&page, &format!("aistagram_http_requests_total{{{get}}}")).is_some_and(|n| n >= 1.0),
        "{page}"
    );
    assert!(
        sample(
            &page,
            r#"aistagram_rate_limited_total{route="/api/posts/{id}"}"#
        )
        .is_some_and(|n| n >= 1.0)
    );
    for (series, want) in [
        ("aistagram_posts_created_total", 1.0),
        ("aistagram_votes_cast_total", 1.0),
        ("aistagram_comments_created_total", 1.0),
        ("aistagram_image_processing_seconds_count", 1.0),
    ] {
        assert_eq!(sample(&page, series), Some(want), "{series}\n{page}");
    }
    assert!(sample(&page, "aistagram_database_bytes").is_some_and(|b| b > 0.0));

    // Off by default.
    let plain = TestApp::spawn().await;
    assert!(plain.metrics.is_none());
}
