//! Host and origin names as browsers and clients send them, normalised for comparison: shared
//! by the configuration (allow-lists) and the guard (checks).

/// Split `host[:port]` (`[v6]:port` too); the host lowercased, without a trailing dot.
pub(crate) fn split_host(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (h, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => return None, // a bare IPv6 address is not a valid Host
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    Some((host, port))
}

/// `scheme://host[:port]` lowercased without a default port or a trailing slash; `None` when
/// `s` is not an http(s) origin.
pub fn normalize_origin(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = s.split_once("://")?;
    let default = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    if authority.contains('/') || authority.contains('@') {
        return None;
    }
    let (host, port) = split_host(authority)?;
    let host = if host.contains(':') { format!("[{host}]") } else { host };
    Some(match port {
        Some(p) if p != default => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    })
}
