use daogou_data::time::*;

#[test]
fn auto_formats() {
    let t = 1_291_191_960; // 2010-12-01 08:26:00 UTC
    assert_eq!(parse_time("2010-12-01 08:26:00"), Some(t));
    assert_eq!(parse_time("2010-12-01T08:26:00"), Some(t));
    assert_eq!(parse_time("2010-12-01 08:26"), Some(t));
    assert_eq!(parse_time("2010-12-01T08:26:00Z"), Some(t));
    assert_eq!(parse_time("2010-12-01T16:26:00+08:00"), Some(t));
    assert_eq!(parse_time("2010-12-01 08:26:00.250"), Some(t));
    assert_eq!(parse_time("12/1/2010 8:26"), Some(t));
    assert_eq!(parse_time("12/01/2010 08:26"), Some(t));
    assert_eq!(parse_time(" 1291191960 "), Some(t));
    assert_eq!(parse_time("1291191960000"), Some(t));
    assert_eq!(parse_time("1291191960.7"), Some(t));
    assert_eq!(parse_time("2010-12-01"), Some(t - 8 * 3600 - 26 * 60));
    assert_eq!(parse_time("01-Jan-1995"), Some(788_918_400));
    assert_eq!(parse_time("1970-01-01"), Some(0));
    assert_eq!(parse_time("1969-12-31 23:59:59"), Some(-1));
    assert_eq!(parse_time("2000-02-29"), Some(951_782_400));
    for bad in ["", "yesterday", "2010-13-01", "2010-02-30", "2011-02-29", "2010-12-01 25:00:00", "-", "1.2.3"] {
        assert_eq!(parse_time(bad), None, "{bad}");
    }
}

#[test]
fn explicit_formats_and_cache() {
    assert_eq!(parse_with_format("01.12.2010 08:26", "%d.%m.%Y %H:%M"), Some(1_291_191_960));
    assert_eq!(parse_with_format("01.12.2010", "%d.%m.%Y"), Some(1_291_161_600));
    assert_eq!(parse_with_format("1291191960123", "unix_ms"), Some(1_291_191_960));
    assert_eq!(parse_with_format("2010-12-01", "%d.%m.%Y"), None);
    let mut p = TimeParser::new(None);
    assert_eq!(p.parse("2010-12-01 08:26:00"), Some(1_291_191_960));
    assert_eq!(p.parse("2010-12-01 08:26:00"), Some(1_291_191_960));
    assert_eq!(p.parse("x"), None);
    assert_eq!(p.parse(""), None);
}
