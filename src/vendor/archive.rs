//! A chart's `.tgz` read into its files: gzip through flate2, then the tar read here.
//! Only what a `helm package` archive holds is understood: regular files (ustar, with
//! their `prefix`), PAX `path` records and GNU long names (Go's `archive/tar`, which Helm
//! uses, writes those for long paths); other entries are skipped. The sizes are bounded,
//! so a hostile archive cannot fill memory.

use std::io::Read as _;

/// The most bytes a chart may unpack to (the kubernetes-agent chart is about 400 KB).
const UNPACKED_LIMIT: u64 = 50_000_000;
/// The most entries a chart may have.
const ENTRY_LIMIT: usize = 10_000;
const BLOCK: usize = 512;

/// One file of the archive: its path as stored (`kubernetes-agent/values.yaml`) and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct File {
    pub(crate) path: String,
    pub(crate) bytes: Vec<u8>,
}

/// The regular files of the gzip-compressed tar `tgz`, in archive order.
pub(crate) fn files(tgz: &[u8]) -> Result<Vec<File>, String> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(tgz)
        .take(UNPACKED_LIMIT + 1)
        .read_to_end(&mut tar)
        .map_err(|error| format!("not gzip: {error}"))?;
    if tar.len() as u64 > UNPACKED_LIMIT {
        return Err(format!("it unpacks to more than {UNPACKED_LIMIT} bytes"));
    }
    let mut files = Vec::new();
    let mut offset = 0;
    // The name a PAX or GNU long-name entry gives the entry after it.
    let mut long_name: Option<String> = None;
    while offset + BLOCK <= tar.len() {
        let header = &tar[offset..offset + BLOCK];
        if header.iter().all(|&byte| byte == 0) {
            break;
        }
        let size = octal(&header[124..136]).ok_or("an entry's size is not octal")?;
        let start = offset + BLOCK;
        let end = start
            .checked_add(size)
            .filter(|&end| end <= tar.len())
            .ok_or("an entry runs past the end")?;
        let data = &tar[start..end];
        match header[156] {
            b'0' | 0 => {
                let path = long_name.take().unwrap_or_else(|| stored_name(header));
                files.push(File {
                    path,
                    bytes: data.to_vec(),
                });
                if files.len() > ENTRY_LIMIT {
                    return Err(format!("it has more than {ENTRY_LIMIT} files"));
                }
            }
            b'x' => long_name = pax_path(data).or(long_name),
            b'L' => long_name = Some(text(data)),
            _ => long_name = None,
        }
        offset = start + size.div_ceil(BLOCK) * BLOCK;
    }
    Ok(files)
}

/// `prefix/name` of a ustar header, or `name` alone.
fn stored_name(header: &[u8]) -> String {
    let name = text(&header[0..100]);
    let prefix = if &header[257..262] == b"ustar" {
        text(&header[345..500])
    } else {
        String::new()
    };
    if prefix.is_empty() {
        name
    } else {
        format!("{prefix}/{name}")
    }
}

/// The text up to the first NUL.
fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&byte| byte == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// An octal number field, NUL- or space-terminated.
fn octal(field: &[u8]) -> Option<usize> {
    let digits = text(field);
    let digits = digits.trim();
    if digits.is_empty() {
        return Some(0);
    }
    usize::from_str_radix(digits, 8).ok()
}

/// The `path` of PAX records (`<length> path=<value>\n` each).
fn pax_path(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    text.lines().find_map(|record| {
        let (_, pair) = record.split_once(' ')?;
        pair.strip_prefix("path=").map(str::to_string)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tar entry: header (ustar, checksum left blank: the reader does not check it) and data.
    pub(crate) fn entry(name: &str, kind: u8, data: &[u8]) -> Vec<u8> {
        let mut header = vec![0u8; BLOCK];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        header[156] = kind;
        header[257..262].copy_from_slice(b"ustar");
        let mut bytes = header;
        bytes.extend_from_slice(data);
        bytes.resize(bytes.len().div_ceil(BLOCK) * BLOCK, 0);
        bytes
    }

    pub(crate) fn gzip(tar: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(tar).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn files_pax_long_names_and_the_end_are_read() {
        let long = format!("kubernetes-agent/templates/{}.yaml", "x".repeat(120));
        let mut tar = entry("kubernetes-agent/Chart.yaml", b'0', b"name: kubernetes-agent\n");
        tar.extend(entry(
            "pax",
            b'x',
            format!("{} path={long}\n", long.len() + 7).as_bytes(),
        ));
        tar.extend(entry("ignored", b'0', b"long"));
        tar.extend(entry("kubernetes-agent/templates", b'5', b""));
        tar.extend(vec![0u8; BLOCK * 2]);
        let files = files(&gzip(&tar)).unwrap();
        assert_eq!(
            files,
            [
                File {
                    path: "kubernetes-agent/Chart.yaml".into(),
                    bytes: b"name: kubernetes-agent\n".to_vec()
                },
                File {
                    path: long,
                    bytes: b"long".to_vec()
                },
            ]
        );
    }

    #[test]
    fn broken_archives_are_errors() {
        assert!(files(b"not gzip").is_err());
        let mut tar = entry("a", b'0', b"data");
        tar.truncate(BLOCK + 2);
        assert!(files(&gzip(&tar)).is_err());
    }
}
