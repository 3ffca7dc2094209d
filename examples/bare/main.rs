//! The stack floor of `bench/run.py`: a bare hyper server with serde_json and no signature
//! work. It reads each request's body whole, parses it, marks the synapse answered (its
//! `axon.status_code`, which the dendrite reads) and answers the same JSON, on kept-alive
//! HTTP/1.1 connections, with the example miners' allocator. What any Rust HTTP server must
//! spend on the same load; the axon's CPU per request is compared with this plus the crypto
//! floor.
//!
//! ```sh
//! cargo run --release --example bare -- --port 18196   # prints `bare: listening on ..`
//! ```

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The body parsed and answered again, marked answered.
async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let body = request.into_body().collect().await?.to_bytes();
    let answer = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(mut synapse) => {
            if let Some(axon) = synapse.get_mut("axon").and_then(|a| a.as_object_mut()) {
                axon.insert("status_code".into(), 200.into());
            }
            serde_json::to_vec(&synapse).map(|json| (StatusCode::OK, json))
        }
        Err(e) => Ok((StatusCode::BAD_REQUEST, e.to_string().into_bytes())),
    };
    let (status, body) = answer.unwrap_or_else(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string().into_bytes(),
        )
    });
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut port = 18196u16;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--port", Some(value)) => {
                port = value.parse().unwrap_or_else(|_| {
                    eprintln!("bare: --port takes a port, not `{value}`");
                    std::process::exit(2)
                })
            }
            _ => {
                eprintln!("bare: usage: bare [--port PORT]");
                std::process::exit(2)
            }
        }
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("bare: listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service_fn(echo));
            // A client that goes away is not this server's error.
            let _ = connection.await;
        });
    }
}
