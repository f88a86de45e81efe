//! The service's configuration file and `--set` overrides.

use daogou_server::config::*;

#[test]
fn the_shop_currency_and_rates_reach_the_assistant() {
    let mut c = Config::default();
    c.apply_str("currency = \"gbp\"\ncurrency_rates = \"USD=1, GBP=0.8,EUR=0.9\"\n").unwrap();
    assert_eq!(c.assistant.currency.as_deref(), Some("GBP"));
    assert_eq!(c.assistant.rates.get("GBP"), Some(&0.8));
    assert_eq!(c.assistant.rates.get("EUR"), Some(&0.9));
    let e = c.apply_str("currency = pounds").unwrap_err();
    assert!(e.contains("line 1") && e.contains("currency") && e.contains("pounds"), "{e}");
    let e = c.apply_str("\ncurrency_rates = GBP:0.8").unwrap_err();
    assert!(e.contains("line 2") && e.contains("CODE=RATE"), "{e}");
    let e = c.apply_str("currency_rates = GBP=-1").unwrap_err();
    assert!(e.contains("GBP") && e.contains("> 0"), "{e}");
}

#[test]
fn file_then_overrides() {
    let mut c = Config::default();
    c.apply_str("# shop\n[server]\nbind = \"0.0.0.0:9000\"\nmodel = item-knn # fast\nset = k=20,shrinkage=5\napi_keys = \"reader123:read,admin1234:read+write+admin\"\n").unwrap();
    assert_eq!(c.bind, "0.0.0.0:9000");
    assert_eq!(c.model, "item-knn");
    assert_eq!(c.params, ["k=20", "shrinkage=5"]);
    assert_eq!(c.api_keys.len(), 2);
    assert!(c.api_keys[1].scopes.admin && !c.api_keys[0].scopes.write);
    c.set("bind", "127.0.0.1:1").unwrap();
    assert_eq!(c.bind, "127.0.0.1:1");
    assert!(c.apply_str("colour = red").unwrap_err().contains("colour"));
    assert!(parse_api_keys("short:read").is_err());
    assert!(parse_api_keys("longenough:root").unwrap_err().contains("root"));
}

#[test]
fn defences_settings() {
    let mut c = Config::default();
    c.apply_str("client_rate_limit = 5\ntrusted_proxies = 10.0.0.1, ::1\nallowed_hosts = Shop.Example, api.shop.example:8443\nallowed_origins = \"https://Admin.Shop.Example:443/\"\ninsecure_open = true\n").unwrap();
    assert_eq!(c.client_rate_limit, 5.0);
    assert_eq!(c.trusted_proxies.len(), 2);
    assert_eq!(c.allowed_hosts, ["shop.example", "api.shop.example:8443"]);
    assert_eq!(c.allowed_origins, ["https://admin.shop.example"]);
    assert!(c.insecure_open);
    assert!(c.set("trusted_proxies", "proxy.local").unwrap_err().contains("proxy.local"));
    assert!(c.set("allowed_origins", "shop.example").unwrap_err().contains("shop.example"));
    assert!(c.set("allowed_hosts", "https://shop.example").is_err());
    assert!(c.set("insecure_open", "maybe").is_err());
}

#[test]
fn an_open_service_is_refused_beyond_loopback() {
    let mut c = Config::default();
    for ok in ["127.0.0.1:8080", "[::1]:8080", "127.0.0.2:1"] {
        assert!(c.check_exposure(ok.parse().unwrap()).is_ok(), "{ok}");
    }
    for bad in ["0.0.0.0:8080", "[::]:8080", "192.168.1.5:80"] {
        let e = c.check_exposure(bad.parse().unwrap()).unwrap_err();
        assert!(e.contains("--insecure-open") && e.contains("--api-keys"), "{e}");
    }
    c.insecure_open = true;
    assert!(c.check_exposure("0.0.0.0:8080".parse().unwrap()).is_ok());
    c.insecure_open = false;
    c.api_keys = parse_api_keys("a-long-key:read").unwrap();
    assert!(c.check_exposure("0.0.0.0:8080".parse().unwrap()).is_ok());
}

#[test]
fn refits_run_at_the_configured_cpu_priority() {
    let mut c = Config::default();
    assert_eq!(c.refit_nice, daogou_engine::background::DEFAULT_REFIT_NICE);
    c.apply_str("refit_nice = 12\n").unwrap();
    assert_eq!(c.refit_nice, 12);
    for bad in ["20", "-1", "low"] {
        let e = c.set("refit_nice", bad).unwrap_err();
        assert!(e.contains("refit_nice") && e.contains(bad) && e.contains("0 to 19"), "{e}");
    }
    assert_eq!(c.refit_nice, 12, "a refused value leaves the setting as it was");
    // the service hands it to the engine: a refit runs on threads at that nice value (Linux)
    #[cfg(target_os = "linux")]
    {
        let mut c = crate::support::config(false);
        c.refit_nice = 12;
        let (_, state) = crate::support::app_on(crate::support::store(&[]), c);
        state.engine.refit(None).unwrap();
        let nice_of_fit_threads: Vec<i64> = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .flatten()
            .filter(|t| std::fs::read_to_string(t.path().join("comm")).unwrap_or_default().starts_with("daogou-fit-"))
            .map(|t| {
                let stat = std::fs::read_to_string(t.path().join("stat")).unwrap();
                // the 19th field of stat, the 17th after the thread's name
                stat[stat.rfind(')').unwrap() + 2..].split(' ').nth(16).unwrap().parse().unwrap()
            })
            .collect();
        assert!(nice_of_fit_threads.contains(&12), "{nice_of_fit_threads:?}");
    }
}
