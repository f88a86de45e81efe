//! The guide is shared across the server's threads.

use daogou_guide::*;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn guide_is_send_and_sync() {
    assert_send_sync::<Guide>();
}
