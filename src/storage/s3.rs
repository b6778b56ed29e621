//! Uploads in an S3-compatible store (`object_store`), for deployments with several web
//! servers: written as a multipart upload, part by part as the bytes arrive (5 MiB parts: the
//! smallest S3 allows), so a file is never whole in memory.

use std::io;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};

use super::{BoxFuture, ByteStream, Storage, Upload, safe_key};

/// `PORTAL_S3_*` settings; uploads go to S3 when a bucket is named.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    /// e.g. `https://s3.ap-southeast-1.amazonaws.com`, or a compatible server's URL.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

const PART: usize = 5 * 1024 * 1024;

pub struct S3Storage {
    store: Arc<dyn ObjectStore>,
    describe: String,
}

fn to_io(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => {
            io::Error::new(io::ErrorKind::NotFound, e.to_string())
        }
        other => io::Error::other(other.to_string()),
    }
}

impl S3Storage {
    pub fn new(s: &S3Settings) -> io::Result<S3Storage> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&s.endpoint)
            .with_bucket_name(&s.bucket)
            .with_region(if s.region.is_empty() {
                "us-east-1"
            } else {
                &s.region
            })
            .with_access_key_id(&s.access_key_id)
            .with_secret_access_key(&s.secret_access_key)
            .with_allow_http(s.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(to_io)?;
        Ok(S3Storage {
            store: Arc::new(store),
            describe: format!("S3 bucket {} at {}", s.bucket, s.endpoint),
        })
    }
}

struct S3Upload {
    writer: Option<WriteMultipart>,
}

impl Upload for S3Upload {
    fn write<'a>(&'a mut self, chunk: &'a [u8]) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let w = self
                .writer
                .as_mut()
                .ok_or_else(|| io::Error::other("upload already finished"))?;
            // At most two parts in flight: memory stays bounded however fast the client sends.
            w.wait_for_capacity(2).await.map_err(to_io)?;
            w.write(chunk);
            Ok(())
        })
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
        Box::pin(async move {
            match self.writer.take() {
                Some(w) => w.finish().await.map(|_| ()).map_err(to_io),
                None => Err(io::Error::other("upload already finished")),
            }
        })
    }

    fn abort(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            if let Some(w) = self.writer.take()
                && let Err(e) = w.abort().await
            {
                tracing::warn!(error = %e, "an S3 multipart upload could not be aborted");
            }
        })
    }
}

impl Storage for S3Storage {
    fn begin<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Box<dyn Upload>>> {
        Box::pin(async move {
            let path = Path::from(safe_key(key)?);
            let upload = self.store.put_multipart(&path).await.map_err(to_io)?;
            Ok(Box::new(S3Upload {
                writer: Some(WriteMultipart::new_with_chunk_size(upload, PART)),
            }) as Box<dyn Upload>)
        })
    }

    fn open<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<ByteStream>> {
        Box::pin(async move {
            use futures_util::TryStreamExt;
            let path = Path::from(safe_key(key)?);
            let got = self.store.get(&path).await.map_err(to_io)?;
            let stream = got.into_stream().map_err(to_io);
            Ok(Box::pin(stream) as ByteStream)
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let path = Path::from(safe_key(key)?);
            match self.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(to_io(e)),
            }
        })
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}
