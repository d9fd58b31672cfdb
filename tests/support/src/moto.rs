//! A moto server for the AWS adapter tests, started from the Python venv named by
//! `TURNFLOW_PYTHON` (`.ci/run` makes one) and killed when dropped.
//!
//! Without `TURNFLOW_PYTHON` a suite skips, saying why — unless `TURNFLOW_REQUIRE_SHARED_DATA`
//! is set, when that is a failure. Once up, Step Functions execution is switched on (it is off by
//! default in moto, and not an environment variable).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// Starts moto for `suite`, or prints `skipped: …` and returns `None`.
    ///
    /// # Panics
    /// When moto cannot be started, or `TURNFLOW_PYTHON` is unset under
    /// `TURNFLOW_REQUIRE_SHARED_DATA`.
    pub fn start(suite: &str) -> Option<Moto> {
        let Some(python) = std::env::var_os("TURNFLOW_PYTHON") else {
            let why = "TURNFLOW_PYTHON is unset (a Python with moto[server]; .ci/run makes one)";
            if std::env::var_os("TURNFLOW_REQUIRE_SHARED_DATA").is_some() {
                panic!("{suite}: TURNFLOW_REQUIRE_SHARED_DATA is set but {why}");
            }
            println!("{suite} skipped: {why}");
            return None;
        };
        let python = PathBuf::from(python);
        // A free port: bind 0, read it, release it for moto.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let server = python.with_file_name("moto_server");
        let mut command = if server.exists() {
            Command::new(server)
        } else {
            let mut c = Command::new(&python);
            c.args(["-m", "moto.server"]);
            c
        };
        let child = command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{suite}: cannot start moto_server: {e}"));
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while moto.request("GET", "/moto-api/", "").is_err() {
            assert!(
                Instant::now() < deadline,
                "{suite}: moto did not come up in 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto.request(
            "POST",
            "/moto-api/config",
            r#"{"stepfunctions":{"execute_state_machine":true},"lambda":{"use_docker":false}}"#,
        )
        .unwrap_or_else(|e| panic!("{suite}: cannot configure moto: {e}"));
        Some(moto)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One HTTP/1.0 request to moto's own API; the response body.
    fn request(&self, method: &str, path: &str, body: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response.split(' ').nth(1).unwrap_or("");
        if !status.starts_with('2') {
            return Err(std::io::Error::other(format!(
                "moto answered {}",
                response.lines().next().unwrap_or("")
            )));
        }
        Ok(response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
