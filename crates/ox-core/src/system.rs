//! `metrics/<id>_system.jsonl`: the resource samples the `ox run` supervisor appends every
//! few seconds (`ox-exec` writes them, `ox plot system` reads them; the file's mtime is the
//! run's heartbeat). One JSON object per line:
//! `{"type":"system","time":T,"cpu_percent":C,"rss_bytes":B,"processes":N[,"gpu_util_percent":G,"gpu_mem_bytes":M]}`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// One line of the system file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "system")]
pub struct SystemSample {
    /// Seconds since the Unix epoch.
    pub time: f64,
    /// CPU use of the whole process tree since the previous sample; 100 = one core busy.
    pub cpu_percent: f64,
    pub rss_bytes: u64,
    /// Number of live processes in the tree.
    pub processes: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_util_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_mem_bytes: Option<u64>,
}

impl SystemSample {
    /// The sample's measurements by name (the line's keys), GPU ones only when sampled.
    pub fn values(&self) -> Vec<(&'static str, f64)> {
        let mut v = vec![
            ("cpu_percent", self.cpu_percent),
            ("rss_bytes", self.rss_bytes as f64),
            ("processes", self.processes as f64),
        ];
        if let Some(g) = self.gpu_util_percent {
            v.push(("gpu_util_percent", g));
        }
        if let Some(m) = self.gpu_mem_bytes {
            v.push(("gpu_mem_bytes", m as f64));
        }
        v
    }

    /// The sample as one line of the file, newline included.
    pub fn to_line(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut line = serde_json::to_vec(self)?;
        line.push(b'\n');
        Ok(line)
    }
}

/// The samples of a system file, in file order; empty when the file is missing. Lines that
/// are not system samples (a torn last line) are skipped.
pub fn read_system(path: &Path) -> Result<Vec<SystemSample>, CoreError> {
    let text = match fs_err::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CoreError::io("read", path, e)),
    };
    Ok(parse_lines(&text))
}

fn parse_lines(text: &str) -> Vec<SystemSample> {
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The samples of the complete lines from byte `offset` on, and the offset just past the
/// last complete line (where the next read starts; `offset` when the file is missing).
pub fn read_system_from(path: &Path, offset: u64) -> Result<(Vec<SystemSample>, u64), CoreError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match fs_err::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), offset)),
        Err(e) => return Err(CoreError::io("open", path, e)),
    };
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|e| CoreError::io("read", path, e))?;
    // A line still being written is left for the next read; a torn one is skipped.
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let samples = parse_lines(&String::from_utf8_lossy(&bytes[..complete]));
    Ok((samples, offset + complete as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format_round_trip_and_torn_lines() {
        let sample = SystemSample {
            time: 1e9 + 3.0,
            cpu_percent: 100.0,
            rss_bytes: 4096,
            processes: 2,
            gpu_util_percent: None,
            gpu_mem_bytes: Some(7),
        };
        let line = sample.to_line().unwrap();
        assert_eq!(
            std::str::from_utf8(&line).unwrap(),
            "{\"type\":\"system\",\"time\":1000000003.0,\"cpu_percent\":100.0,\"rss_bytes\":4096,\"processes\":2,\"gpu_mem_bytes\":7}\n"
        );
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x_system.jsonl");
        assert!(read_system(&path).unwrap().is_empty());
        let mut text = line.clone();
        text.extend_from_slice(b"{\"type\":\"other\",\"time\":1}\n{\"type\":\"system\",\"ti");
        std::fs::write(&path, text).unwrap();
        assert_eq!(read_system(&path).unwrap(), vec![sample.clone()]);
        // From an offset: only complete lines, and where the next read starts.
        let (from_start, end) = read_system_from(&path, 0).unwrap();
        assert_eq!(from_start, vec![sample.clone()]);
        assert_eq!(
            end as usize,
            line.len() + "{\"type\":\"other\",\"time\":1}\n".len()
        );
        let (rest, same) = read_system_from(&path, end).unwrap();
        assert!(rest.is_empty());
        assert_eq!(same, end);
        assert_eq!(
            sample.values(),
            [
                ("cpu_percent", 100.0),
                ("rss_bytes", 4096.0),
                ("processes", 2.0),
                ("gpu_mem_bytes", 7.0)
            ]
        );
    }
}
