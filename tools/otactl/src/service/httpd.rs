//! A loopback HTTP server with a few worker threads, shared by the file
//! server and the admin endpoint.
//!
//! Its sockets have `TCP_NODELAY`: tiny_http writes a response's head and
//! its body separately, and with Nagle's algorithm the body of every
//! response after the first on a kept-alive connection waited for the
//! client's delayed ACK of the head (about 40 ms on Linux).

use std::net::TcpListener;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use anyhow::{anyhow, Context};
use tiny_http::{Header, Request, Response, Server};

/// A loopback HTTP server; [`HttpServer::shutdown`] (or drop) stops it.
pub(crate) struct HttpServer {
    server: Arc<Server>,
    name: String,
    port: u16,
    workers: Vec<JoinHandle<()>>,
}

impl HttpServer {
    /// Listens on 127.0.0.1:`port` (0 for any free port). Requests wait until
    /// [`HttpServer::serve`].
    pub fn bind(port: u16, name: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("listening for {name} on 127.0.0.1:{port}"))?;
        // Accepted sockets inherit it from the listening socket.
        socket2::SockRef::from(&listener)
            .set_tcp_nodelay(true)
            .with_context(|| format!("setting TCP_NODELAY for {name}"))?;
        let server = Server::from_listener(listener, None)
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("serving {name} on 127.0.0.1:{port}"))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .context("the server has no IP address")?;
        Ok(HttpServer {
            server: Arc::new(server),
            name: name.to_owned(),
            port,
            workers: Vec::new(),
        })
    }

    /// Hands every request to `handler` on one of `workers` threads.
    pub fn serve<F>(&mut self, workers: usize, handler: F) -> anyhow::Result<()>
    where
        F: Fn(Request) + Send + Sync + 'static,
    {
        let handler = Arc::new(handler);
        for i in 0..workers {
            let server = Arc::clone(&self.server);
            let handler = Arc::clone(&handler);
            let worker = thread::Builder::new()
                .name(format!("{}-{i}", self.name))
                .spawn(move || {
                    while let Ok(request) = server.recv() {
                        handler(request);
                    }
                })
                .context("spawning an HTTP worker")?;
            self.workers.push(worker);
        }
        Ok(())
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops accepting and joins the workers.
    pub fn shutdown(&mut self) {
        for _ in &self.workers {
            self.server.unblock();
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A header; the names and values used here are always valid.
pub(crate) fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

/// Sends `response`, logging (not failing) when the client has gone.
pub(crate) fn respond<R: std::io::Read>(request: Request, response: Response<R>) {
    if let Err(e) = request.respond(response) {
        log::debug!("HTTP response not sent: {e}");
    }
}
