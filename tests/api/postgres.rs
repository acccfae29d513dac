//! A throwaway PostgreSQL cluster for the PostgreSQL leg of the suite:
//! `initdb` + `pg_ctl` in a temp dir on a free loopback port, run as the
//! `postgres` user when the tests run as root (initdb refuses root), and
//! stopped when the suite ends. `TEST_DATABASE_URL` uses a server instead.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
};

/// Where test databases are created.
pub(crate) enum Cluster {
    /// A cluster this process started; stopped on drop.
    Owned {
        dir: tempfile::TempDir,
        bin: PathBuf,
        admin_url: String,
        as_postgres: bool,
    },
    /// A server given by `TEST_DATABASE_URL`.
    External { admin_url: String },
}

impl Cluster {
    /// The URL of the maintenance database, for CREATE DATABASE.
    pub(crate) fn admin_url(&self) -> &str {
        match self {
            Self::Owned { admin_url, .. } | Self::External { admin_url } => admin_url,
        }
    }

    /// Starts a cluster: `Ok(None)` when PostgreSQL is not installed,
    /// `Err` when it is but could not be started.
    pub(crate) fn start() -> Result<Option<Self>, String> {
        if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
            return Ok(Some(Self::External { admin_url: url }));
        }
        let Some(bin) = find_bin() else {
            return Ok(None);
        };
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("brand-gateway-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        if as_postgres {
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres:")
                .arg(dir.path()))?;
        }
        let data = dir.path().join("data");
        let port = free_port()?;
        let pg = |program: &str| {
            let path = bin.join(program);
            if as_postgres {
                let mut command = Command::new("runuser");
                command.args(["-u", "postgres", "--"]).arg(path);
                command
            } else {
                Command::new(path)
            }
        };
        run(pg("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(&data))?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=400 -c shared_buffers=128MB",
            dir.path().display()
        );
        run(pg("pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(dir.path().join("server.log"))
            .args(["-o", &options, "start"]))?;
        Ok(Some(Self::Owned {
            dir,
            bin,
            admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            as_postgres,
        }))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Self::Owned {
            dir,
            bin,
            as_postgres,
            ..
        } = self
        {
            let mut command = if *as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(bin.join("pg_ctl"));
                c
            } else {
                Command::new(bin.join("pg_ctl"))
            };
            let _ = command
                .args(["-w", "-m", "immediate", "-D"])
                .arg(dir.path().join("data"))
                .arg("stop")
                .output();
        }
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// `initdb` on PATH, or in Debian's versioned directories (newest first).
fn find_bin() -> Option<PathBuf> {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").exists() {
            return Some(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| Path::new(p).join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}
