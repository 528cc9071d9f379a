//! The six image providers, each spoken in its public API's own wire format. A call answers the
//! picture's bytes, or a URL that the intake fetches through the SSRF-safe fetcher. Failures are
//! sorted into [`ProviderFailure`]s; no message carries the agent's key.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::domain::generation::Provider;
use crate::error::{Error, ProviderFailure, Result};

/// What one call asks for.
pub struct Ask<'a> {
    pub provider: Provider,
    pub base: &'a str,
    pub model: &'a str,
    pub key: &'a str,
    /// The prompt with its style applied.
    pub prompt: &'a str,
    pub negative: Option<&'a str>,
    pub width: u32,
    pub height: u32,
    pub seed: Option<u64>,
}

/// Where the picture is.
pub enum Output {
    Bytes(Vec<u8>),
    /// An `https` URL the provider made (Replicate, fal), fetched like any image URL.
    Url(String),
}

/// Hugging Face answers 503 with `estimated_time` while a model loads: at most this many waits.
const LOADING_RETRIES: u32 = 5;
/// How often a Replicate prediction is polled.
const POLL_EVERY: Duration = Duration::from_secs(1);

fn fail(a: &Ask, failure: ProviderFailure, detail: impl Into<String>) -> Error {
    // Providers do not echo keys, but a proxy in between might: never pass one on.
    let detail = detail.into().replace(a.key, "***");
    let detail: String = detail.chars().take(300).collect();
    Error::Provider {
        provider: a.provider.name(),
        failure,
        detail,
    }
}

/// Reads a body of at most `max` bytes.
async fn body(a: &Ask<'_>, mut res: Response, max: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| transport(a, e))? {
        if out.len() + chunk.len() > max {
            return Err(fail(
                a,
                ProviderFailure::BadOutput,
                "the answer is too large",
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn transport(a: &Ask, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        return fail(
            a,
            ProviderFailure::Timeout,
            "the provider did not answer in time",
        );
    }
    // The URL in reqwest's message is the provider's endpoint, never the key.
    fail(
        a,
        ProviderFailure::Failed,
        format!("cannot reach the provider: {e}"),
    )
}

fn json_of(a: &Ask, bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|_| {
        fail(
            a,
            ProviderFailure::BadOutput,
            "the answer is not the JSON expected",
        )
    })
}

/// Turns a refusal status into its failure, with the provider's own message when it sent one.
fn refusal(a: &Ask, status: StatusCode, headers: &HeaderMap, bytes: &[u8]) -> Error {
    // The key goes before anything is cut, or a cut could leave part of it.
    let text = String::from_utf8_lossy(bytes).replace(a.key, "***");
    let message = serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| provider_message(&v))
        .map(|m| m.replace(a.key, "***"))
        .unwrap_or_else(|| text.trim().chars().take(200).collect());
    let failure = match status.as_u16() {
        401 => ProviderFailure::KeyRejected,
        // Google's PERMISSION_DENIED is about the key; elsewhere a 403 is moderation, region or
        // model access, which a new key would not change.
        403 if a.provider == Provider::Google => ProviderFailure::KeyRejected,
        // Google reports a bad key as a 400 INVALID_ARGUMENT naming it.
        400 if a.provider == Provider::Google && message.contains("API key") => {
            ProviderFailure::KeyRejected
        }
        429 => ProviderFailure::RateLimited(
            headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map(|s| s.ceil().max(1.0) as u64),
        ),
        504 | 408 => ProviderFailure::Timeout,
        _ => ProviderFailure::Failed,
    };
    fail(a, failure, format!("HTTP {}: {message}", status.as_u16()))
}

/// The human message in a provider's error JSON, in each provider's spelling.
fn provider_message(v: &Value) -> Option<String> {
    let s = |v: &Value| v.as_str().map(str::to_owned);
    s(&v["error"]["message"]) // OpenAI, Google
        .or_else(|| s(&v["error"])) // Hugging Face, Replicate's prediction
        .or_else(|| s(&v["detail"])) // Replicate, fal
        .or_else(|| {
            // Stability: {"name", "errors": [..]}
            v["errors"].as_array().map(|e| {
                e.iter()
                    .filter_map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .or_else(|| s(&v["message"]))
}

/// Whether `url` is on `base`'s origin, without credentials of its own.
fn same_origin(base: &str, url: &str) -> bool {
    match (url::Url::parse(base), url::Url::parse(url)) {
        (Ok(b), Ok(u)) => {
            u.origin() == b.origin() && u.username().is_empty() && u.password().is_none()
        }
        _ => false,
    }
}

/// The picture in a `data:` URI, or the URL itself.
fn data_or_url(a: &Ask, url: &str) -> Result<Output> {
    match url.strip_prefix("data:") {
        Some(rest) => {
            let (_, b64) = rest
                .split_once(";base64,")
                .ok_or_else(|| fail(a, ProviderFailure::BadOutput, "a data: URI without base64"))?;
            Ok(Output::Bytes(b64_image(a, b64)?))
        }
        None => Ok(Output::Url(url.to_owned())),
    }
}

fn b64_image(a: &Ask, b64: &str) -> Result<Vec<u8>> {
    STANDARD.decode(b64.trim()).map_err(|_| {
        fail(
            a,
            ProviderFailure::BadOutput,
            "the image is not valid base64",
        )
    })
}

/// OpenAI's sizes: the supported one of the same orientation as the request.
fn openai_size(model: &str, w: u32, h: u32) -> &'static str {
    let (wide, tall) = (w * 10 > h * 13, h * 10 > w * 13);
    if model.starts_with("dall-e-2") {
        return match w.max(h) {
            0..=256 => "256x256",
            257..=512 => "512x512",
            _ => "1024x1024",
        };
    }
    let gpt = model.starts_with("gpt-image");
    match (wide, tall, gpt) {
        (true, _, false) => "1792x1024",
        (_, true, false) => "1024x1792",
        (true, _, true) => "1536x1024",
        (_, true, true) => "1024x1536",
        _ => "1024x1024",
    }
}

/// The aspect ratio nearest the request among those FLUX and SD3 endpoints accept.
fn aspect_ratio(w: u32, h: u32) -> &'static str {
    const RATIOS: [(&str, f64); 9] = [
        ("1:1", 1.0),
        ("16:9", 16.0 / 9.0),
        ("9:16", 9.0 / 16.0),
        ("21:9", 21.0 / 9.0),
        ("9:21", 9.0 / 21.0),
        ("3:2", 1.5),
        ("2:3", 2.0 / 3.0),
        ("4:5", 0.8),
        ("5:4", 1.25),
    ];
    let want = f64::from(w) / f64::from(h.max(1));
    RATIOS
        .iter()
        .min_by(|x, y| (x.1 - want).abs().total_cmp(&(y.1 - want).abs()))
        .map_or("1:1", |r| r.0)
}

/// Calls the provider once (with Hugging Face's loading retries and Replicate's polling);
/// `max_bytes` bounds every answer read.
pub async fn call(client: &reqwest::Client, a: &Ask<'_>, max_bytes: usize) -> Result<Output> {
    // A JSON answer carries the image as base64: 4/3 of it, and some room.
    let max_json = max_bytes / 3 * 4 + 64 * 1024;
    let base = a.base.trim_end_matches('/');
    match a.provider {
        Provider::HuggingFace => {
            let mut parameters = json!({"width": a.width, "height": a.height});
            if let Some(seed) = a.seed {
                parameters["seed"] = json!(seed);
            }
            if let Some(n) = a.negative {
                parameters["negative_prompt"] = json!(n);
            }
            let body = json!({"inputs": a.prompt, "parameters": parameters});
            let url = format!("{base}/models/{}", a.model);
            for attempt in 0..=LOADING_RETRIES {
                let res = client
                    .post(&url)
                    .bearer_auth(a.key)
                    .header(ACCEPT, "image/png")
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| transport(a, e))?;
                let (status, headers) = (res.status(), res.headers().clone());
                let bytes = body_of(a, res, max_json).await?;
                if status.is_success() {
                    return Ok(Output::Bytes(bytes));
                }
                if status == StatusCode::SERVICE_UNAVAILABLE && attempt < LOADING_RETRIES {
                    // The model is loading: wait as long as it says (at most 20 s a time).
                    if let Some(eta) = json_of(a, &bytes)
                        .ok()
                        .and_then(|v| v["estimated_time"].as_f64())
                    {
                        tokio::time::sleep(Duration::from_secs_f64(eta.clamp(0.05, 20.0))).await;
                        continue;
                    }
                }
                return Err(refusal(a, status, &headers, &bytes));
            }
            Err(fail(
                a,
                ProviderFailure::Timeout,
                "the model did not finish loading",
            ))
        }
        Provider::OpenAi => {
            let mut body = json!({
                "model": a.model,
                "prompt": a.prompt,
                "n": 1,
                "size": openai_size(a.model, a.width, a.height),
            });
            // gpt-image models always answer base64 and refuse the field.
            if !a.model.starts_with("gpt-image") {
                body["response_format"] = json!("b64_json");
            }
            let res = client
                .post(format!("{base}/v1/images/generations"))
                .bearer_auth(a.key)
                .json(&body)
                .send()
                .await
                .map_err(|e| transport(a, e))?;
            let v = success_json(a, res, max_json).await?;
            let b64 = v["data"][0]["b64_json"]
                .as_str()
                .ok_or_else(|| fail(a, ProviderFailure::BadOutput, "no data[0].b64_json"))?;
            Ok(Output::Bytes(b64_image(a, b64)?))
        }
        Provider::Google => {
            let body = json!({
                "contents": [{"parts": [{"text": a.prompt}]}],
                "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]},
            });
            let res = client
                .post(format!("{base}/v1beta/models/{}:generateContent", a.model))
                .header("x-goog-api-key", a.key)
                .json(&body)
                .send()
                .await
                .map_err(|e| transport(a, e))?;
            let v = success_json(a, res, max_json).await?;
            let parts = v["candidates"][0]["content"]["parts"].as_array();
            let inline = parts
                .into_iter()
                .flatten()
                .find_map(|p| p.get("inlineData").or_else(|| p.get("inline_data")))
                .ok_or_else(|| {
                    fail(
                        a,
                        ProviderFailure::BadOutput,
                        "the answer holds no image part",
                    )
                })?;
            let data = inline["data"]
                .as_str()
                .ok_or_else(|| fail(a, ProviderFailure::BadOutput, "inlineData without data"))?;
            Ok(Output::Bytes(b64_image(a, data)?))
        }
        Provider::Replicate => {
            let mut input = json!({
                "prompt": a.prompt,
                "aspect_ratio": aspect_ratio(a.width, a.height),
                "output_format": "png",
            });
            if let Some(seed) = a.seed {
                input["seed"] = json!(seed);
            }
            let res = client
                .post(format!("{base}/v1/models/{}/predictions", a.model))
                .bearer_auth(a.key)
                .header("Prefer", "wait")
                .json(&json!({"input": input}))
                .send()
                .await
                .map_err(|e| transport(a, e))?;
            let mut v = success_json(a, res, max_json).await?;
            loop {
                match v["status"].as_str().unwrap_or_default() {
                    "succeeded" => {
                        let out = &v["output"];
                        let url = out
                            .as_str()
                            .or_else(|| out[0].as_str())
                            .ok_or_else(|| fail(a, ProviderFailure::BadOutput, "no output URL"))?;
                        return data_or_url(a, url);
                    }
                    "starting" | "processing" => {}
                    "failed" | "canceled" => {
                        let why = v["error"].as_str().unwrap_or("the prediction failed");
                        return Err(fail(a, ProviderFailure::Failed, why.to_owned()));
                    }
                    other => {
                        return Err(fail(
                            a,
                            ProviderFailure::BadOutput,
                            format!("unknown prediction status '{other}'"),
                        ));
                    }
                }
                // The key goes only to the provider's own origin (scheme, host and port), and never
                // to a URL carrying credentials of its own.
                let poll = v["urls"]["get"]
                    .as_str()
                    .filter(|u| same_origin(base, u))
                    .ok_or_else(|| {
                        fail(
                            a,
                            ProviderFailure::BadOutput,
                            "no polling URL on the provider's origin",
                        )
                    })?
                    .to_owned();
                tokio::time::sleep(POLL_EVERY).await;
                let res = client
                    .get(poll)
                    .bearer_auth(a.key)
                    .send()
                    .await
                    .map_err(|e| transport(a, e))?;
                v = success_json(a, res, max_json).await?;
            }
        }
        Provider::Fal => {
            let mut body = json!({
                "prompt": a.prompt,
                "image_size": {"width": a.width, "height": a.height},
                "num_images": 1,
            });
            if let Some(seed) = a.seed {
                body["seed"] = json!(seed);
            }
            let res = client
                .post(format!("{base}/{}", a.model))
                .header(AUTHORIZATION, format!("Key {}", a.key))
                .json(&body)
                .send()
                .await
                .map_err(|e| transport(a, e))?;
            let v = success_json(a, res, max_json).await?;
            let url = v["images"][0]["url"]
                .as_str()
                .ok_or_else(|| fail(a, ProviderFailure::BadOutput, "no images[0].url"))?;
            data_or_url(a, url)
        }
        Provider::Stability => {
            let mut form = reqwest::multipart::Form::new()
                .text("prompt", a.prompt.to_owned())
                .text("output_format", "png")
                .text("model", a.model.to_owned())
                .text("aspect_ratio", aspect_ratio(a.width, a.height));
            if let Some(n) = a.negative {
                form = form.text("negative_prompt", n.to_owned());
            }
            if let Some(seed) = a.seed {
                form = form.text("seed", (seed % 4_294_967_295).to_string());
            }
            let res = client
                .post(format!("{base}/v2beta/stable-image/generate/sd3"))
                .bearer_auth(a.key)
                .header(ACCEPT, "image/*")
                .multipart(form)
                .send()
                .await
                .map_err(|e| transport(a, e))?;
            let (status, headers) = (res.status(), res.headers().clone());
            let bytes = body_of(a, res, max_json).await?;
            if !status.is_success() {
                return Err(refusal(a, status, &headers, &bytes));
            }
            Ok(Output::Bytes(bytes))
        }
        Provider::Builtin => Err(Error::internal("builtin is not called over HTTP")),
    }
}

async fn body_of(a: &Ask<'_>, res: Response, max: usize) -> Result<Vec<u8>> {
    body(a, res, max).await
}

/// A 2xx answer's JSON, or the refusal it is.
async fn success_json(a: &Ask<'_>, res: Response, max: usize) -> Result<Value> {
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = body(a, res, max).await?;
    if !status.is_success() {
        return Err(refusal(a, status, &headers, &bytes));
    }
    json_of(a, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ratios_follow_the_request_orientation() {
        assert_eq!(openai_size("dall-e-3", 1024, 1024), "1024x1024");
        assert_eq!(openai_size("dall-e-3", 1600, 900), "1792x1024");
        assert_eq!(openai_size("dall-e-3", 900, 1600), "1024x1792");
        assert_eq!(openai_size("gpt-image-1", 1600, 900), "1536x1024");
        assert_eq!(openai_size("dall-e-2", 300, 300), "512x512");
        assert_eq!(aspect_ratio(1024, 1024), "1:1");
        assert_eq!(aspect_ratio(1920, 1080), "16:9");
        assert_eq!(aspect_ratio(832, 1248), "2:3");
    }

    #[test]
    fn polling_stays_on_the_providers_origin() {
        let base = "https://api.replicate.com";
        assert!(same_origin(
            base,
            "https://api.replicate.com/v1/predictions/p1"
        ));
        for bad in [
            "https://api.replicate.com.evil.tld/v1/predictions/p1",
            "https://api.replicate.com@169.254.169.254/v1/predictions/p1",
            "https://user:pw@api.replicate.com/v1/predictions/p1",
            "http://api.replicate.com/v1/predictions/p1",
            "https://api.replicate.com:444/v1/predictions/p1",
            "not a url",
        ] {
            assert!(!same_origin(base, bad), "{bad}");
        }
    }

    #[test]
    fn provider_messages_are_read_in_each_spelling() {
        for (v, want) in [
            (json!({"error": {"message": "bad key"}}), "bad key"),
            (json!({"error": "Model is loading"}), "Model is loading"),
            (json!({"detail": "Unauthenticated"}), "Unauthenticated"),
            (
                json!({"name": "unauthorized", "errors": ["a", "b"]}),
                "a; b",
            ),
        ] {
            assert_eq!(provider_message(&v).as_deref(), Some(want));
        }
    }
}
