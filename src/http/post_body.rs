//! The body of a new post, in any of its spellings: JSON (each surface names its own fields) or
//! `multipart/form-data` with a `file` part and the other fields as form fields. Exactly one image
//! source; every malformed body is refused with a stable code in the surface's envelope.

use std::marker::PhantomData;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use std::borrow::Cow;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::SharedState;
use super::extract::read_json;
use super::surface::{Reject, Surface};
use crate::error::{Error, Result};
use crate::media::ImageInput;
use crate::service::posts::{NewPost, PostDetails, PostImage};

/// The fields of a new post before the service parses them.
#[derive(Debug, Default)]
pub struct PostFields {
    pub image_url: Option<String>,
    pub image_b64: Option<String>,
    pub file: Option<Vec<u8>>,
    /// One of the caller's generated images (Glimpse's `generation_id`).
    pub generation_id: Option<String>,
    pub details: PostDetails,
    /// The body was `multipart/form-data` (surfaces name a missing image differently).
    pub multipart: bool,
}

/// Which post field a multipart form field fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    File,
    ImageUrl,
    ImageB64,
    Caption,
    Prompt,
    Category,
    Model,
    Tags,
    IsNsfw,
    PublishAt,
    GenerationId,
}

/// How a surface spells a new post: one name per field, the same in JSON bodies and in
/// multipart forms.
pub trait PostSpelling: Surface {
    /// The post field a JSON key or form field of this name fills; unknown names are ignored.
    fn field(name: &str) -> Option<FormField>;
}

/// A JSON post body read with surface `S`'s field names.
struct JsonPost<S>(PostFields, PhantomData<S>);

impl<'de, S: PostSpelling> Deserialize<'de> for JsonPost<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(JsonPost(PostFields::default(), PhantomData::<S>))
    }
}

impl<'de, S: PostSpelling> Visitor<'de> for JsonPost<S> {
    type Value = JsonPost<S>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> std::result::Result<Self, A::Error> {
        let f = &mut self.0;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match S::field(&key) {
                None | Some(FormField::File) => {
                    map.next_value::<IgnoredAny>()?;
                }
                Some(FormField::ImageUrl) => f.image_url = map.next_value()?,
                Some(FormField::ImageB64) => f.image_b64 = map.next_value()?,
                Some(FormField::Caption) => f.details.caption = map.next_value()?,
                Some(FormField::Prompt) => f.details.prompt = map.next_value()?,
                Some(FormField::Category) => f.details.category = map.next_value()?,
                Some(FormField::Model) => f.details.model = map.next_value()?,
                Some(FormField::Tags) => f.details.tags = map.next_value()?,
                Some(FormField::IsNsfw) => f.details.is_nsfw = map.next_value()?,
                Some(FormField::PublishAt) => f.details.publish_at = map.next_value()?,
                Some(FormField::GenerationId) => f.generation_id = map.next_value()?,
            }
        }
        Ok(self)
    }
}

impl PostFields {
    /// The one image source, decoded; `max_bytes` bounds base64 before decoding it.
    pub fn take_image(&mut self, max_bytes: usize) -> Result<PostImage> {
        let url = self.image_url.take().filter(|u| !u.trim().is_empty());
        let b64 = self.image_b64.take().filter(|b| !b.trim().is_empty());
        let file = self.file.take();
        let generation = self.generation_id.take().filter(|g| !g.trim().is_empty());
        let new = |i| Ok(PostImage::New(i));
        match (url, b64, file, generation) {
            (None, None, None, None) => Err(Error::ImageRequired),
            (Some(u), None, None, None) => new(ImageInput::Url(u)),
            (None, Some(b), None, None) => new(ImageInput::Bytes(decode_b64(&b, max_bytes)?)),
            (None, None, Some(f), None) => new(ImageInput::Bytes(f)),
            (None, None, None, Some(g)) => Ok(PostImage::Generation(g)),
            _ => Err(Error::AmbiguousInput),
        }
    }

    /// The post the service makes of these fields.
    pub fn into_new_post(self, max_bytes: usize) -> Result<NewPost> {
        self.into_post(max_bytes, false)
    }

    /// Like [`Self::into_new_post`], but a post naming no image asks for procedural art (the
    /// native surface, as the live service picks a picture for a post without `image_url`).
    pub fn into_new_post_or_procedural(self, max_bytes: usize) -> Result<NewPost> {
        self.into_post(max_bytes, true)
    }

    fn into_post(mut self, max_bytes: usize, procedural: bool) -> Result<NewPost> {
        // An empty `image_url` is "none", as on the live service; empty bytes sent as
        // `image_b64` or a file are an upload gone wrong, which a picture must not paper over.
        let empty_upload = self
            .image_b64
            .as_deref()
            .is_some_and(|b| b.trim().is_empty())
            || self.file.as_ref().is_some_and(Vec::is_empty);
        if procedural && empty_upload {
            return Err(Error::ImageRequired);
        }
        let image = match self.take_image(max_bytes) {
            Err(Error::ImageRequired) if procedural => PostImage::Procedural,
            other => other?,
        };
        let mut details = self.details;
        details.caption = Some(details.caption.unwrap_or_default());
        Ok(NewPost { image, details })
    }
}

/// Base64 (standard or URL-safe, padded or not, line breaks allowed) or a `data:…;base64,` URL.
pub fn decode_b64(raw: &str, max_bytes: usize) -> Result<Vec<u8>> {
    let raw = raw.trim();
    let payload = match raw.strip_prefix("data:") {
        Some(rest) => rest
            .split_once(";base64,")
            .map(|(_, data)| data)
            .ok_or_else(|| Error::validation("image_b64", "a data: URL must be ;base64-encoded"))?,
        None => raw,
    };
    let clean: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if clean.len() / 4 * 3 > max_bytes + 3 {
        return Err(Error::UploadTooLarge(max_bytes));
    }
    let trimmed = clean.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
        .or_else(|_| STANDARD.decode(&clean))
        .or_else(|_| URL_SAFE.decode(&clean))
        .map_err(|_| Error::validation("image_b64", "not valid base64"))
}

/// Tags given as repeated fields, a JSON array string, or comma-separated.
pub fn split_tags(values: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for v in values {
        let v = v.trim();
        match serde_json::from_str::<Vec<String>>(v) {
            Ok(list) if v.starts_with('[') => out.extend(list),
            _ => out.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from),
            ),
        }
    }
    out
}

fn truthy(v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" | "" => Ok(false),
        _ => Err(Error::validation("is_nsfw", "must be true or false")),
    }
}

/// A new post's body as surface `S` spells it.
pub struct PostBody<S>(pub PostFields, pub PhantomData<S>);

impl<S: PostSpelling> FromRequest<SharedState> for PostBody<S> {
    type Rejection = Reject<S>;

    /// Oversized bodies are refused by the route's body limit before a field is read; they are
    /// answered in image terms, with the configured image limit.
    async fn from_request(req: Request, state: &SharedState) -> Result<Self, Reject<S>> {
        let max = state.services.media.max_bytes();
        let limit = state.services.media.body_limit();
        let declared = crate::http::extract::refuse_declared_over(req.headers(), limit);
        let read = async {
            declared?;
            read::<S>(req, state).await
        };
        read.await
            .map(|f| PostBody(f, PhantomData))
            .map_err(|e| match e {
                Error::PayloadTooLarge(_) | Error::UploadTooLarge(_) => Error::UploadTooLarge(max),
                other => other,
            })
            .map_err(Reject::from)
    }
}

async fn read<S: PostSpelling>(req: Request, state: &SharedState) -> Result<PostFields> {
    let is_multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return read_json::<JsonPost<S>, S>(req, state)
            .await
            .map(|JsonPost(f, _)| f);
    }
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|e| Error::validation("multipart", e.body_text()))?;
    let mut f = PostFields {
        multipart: true,
        ..PostFields::default()
    };
    let mut tags = Vec::new();
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(owned) = S::SERVER_OWNED.iter().find(|o| **o == name) {
            return Err(Error::ForbiddenField(owned));
        }
        let Some(which) = S::field(&name) else {
            continue;
        };
        if which == FormField::File {
            if f.file.is_some() {
                return Err(Error::AmbiguousInput);
            }
            f.file = Some(field.bytes().await.map_err(multipart_error)?.to_vec());
            continue;
        }
        let text = field.text().await.map_err(multipart_error)?;
        match which {
            FormField::File => {}
            FormField::ImageUrl => f.image_url = Some(text),
            FormField::ImageB64 => f.image_b64 = Some(text),
            FormField::Caption => f.details.caption = Some(text),
            FormField::Prompt => f.details.prompt = Some(text),
            FormField::Category => f.details.category = Some(text),
            FormField::Model => f.details.model = Some(text),
            FormField::Tags => tags.push(text),
            FormField::IsNsfw => f.details.is_nsfw = truthy(&text)?,
            FormField::PublishAt => f.details.publish_at = Some(text),
            FormField::GenerationId => f.generation_id = Some(text),
        }
    }
    f.details.tags = split_tags(&tags);
    Ok(f)
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> Error {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        // `PostFields::from_request` restates it with the image limit.
        Error::PayloadTooLarge(0)
    } else {
        Error::validation("multipart", e.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_comes_plain_padded_url_safe_or_as_a_data_url() {
        let bytes = b"\x89PNG\r\n\x1a\n\xff\xfe";
        let std = STANDARD.encode(bytes);
        assert_eq!(decode_b64(&std, 100).unwrap(), bytes);
        assert_eq!(decode_b64(std.trim_end_matches('='), 100).unwrap(), bytes);
        assert_eq!(decode_b64(&URL_SAFE.encode(bytes), 100).unwrap(), bytes);
        assert_eq!(
            decode_b64(&format!("data:image/png;base64,{std}"), 100).unwrap(),
            bytes
        );
        assert_eq!(
            decode_b64(&format!("  {}\n{}  ", &std[..4], &std[4..]), 100).unwrap(),
            bytes
        );
        assert_eq!(
            decode_b64("not*base64", 100).unwrap_err().code(),
            "VALIDATION_ERROR"
        );
        assert_eq!(
            decode_b64("data:image/png,raw", 100).unwrap_err().code(),
            "VALIDATION_ERROR"
        );
        assert_eq!(
            decode_b64(&"A".repeat(400), 100).unwrap_err().code(),
            "UPLOAD_TOO_LARGE"
        );
    }

    #[test]
    fn tags_are_split_every_documented_way() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(split_tags(&v(&["aiart,scifi"])), v(&["aiart", "scifi"]));
        assert_eq!(split_tags(&v(&[r#"["a","b"]"#])), v(&["a", "b"]));
        assert_eq!(split_tags(&v(&["a", "b", " "])), v(&["a", "b"]));
    }

    #[test]
    fn exactly_one_image_source_is_required() {
        let mut none = PostFields::default();
        assert_eq!(none.take_image(10).unwrap_err().code(), "IMAGE_REQUIRED");
        let mut two = PostFields {
            image_url: Some("https://a.b/c.png".into()),
            file: Some(vec![1]),
            ..Default::default()
        };
        assert_eq!(two.take_image(10).unwrap_err().code(), "AMBIGUOUS_INPUT");
        let mut blank_url = PostFields {
            image_url: Some("  ".into()),
            file: Some(vec![1]),
            ..Default::default()
        };
        assert!(matches!(
            blank_url.take_image(10).unwrap(),
            PostImage::New(ImageInput::Bytes(_))
        ));
        let mut generated = PostFields {
            generation_id: Some("0193…".into()),
            ..Default::default()
        };
        assert!(matches!(
            generated.take_image(10).unwrap(),
            PostImage::Generation(_)
        ));
        let mut both = PostFields {
            generation_id: Some("0193…".into()),
            image_b64: Some("AAAA".into()),
            ..Default::default()
        };
        assert_eq!(both.take_image(10).unwrap_err().code(), "AMBIGUOUS_INPUT");
    }
}
