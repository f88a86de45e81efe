//! The hand-written OpenAPI 3 document served at `/openapi.json`.

use serde_json::{json, Value};

use crate::config::Limits;

fn q(name: &str, ty: &str, about: &str) -> Value {
    qs(name, json!({"type": ty}), about)
}

fn qs(name: &str, schema: Value, about: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": about, "schema": schema})
}

/// An id: 1–256 bytes, not blank, no control characters.
fn id_schema() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": Limits::MAX_ID_BYTES, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"})
}

fn p(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": id_schema()})
}

fn ok(schema: &str) -> Value {
    json!({"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn errors(codes: &[&str]) -> serde_json::Map<String, Value> {
    codes
        .iter()
        .map(|c| {
            (c.to_string(), json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}))
        })
        .collect()
}

fn err() -> Value {
    json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn responses(okv: (&str, Value), errs: &[&str]) -> Value {
    let mut m = errors(errs);
    m.insert(okv.0.to_owned(), okv.1);
    Value::Object(m)
}

/// `n` between 1 and `max_n`.
fn n_param(l: &Limits, default: usize) -> Value {
    qs(
        "n",
        json!({"type": "integer", "minimum": 1, "maximum": l.max_n}),
        &format!("how many (1..{}, default {default})", l.max_n),
    )
}

fn filters(l: &Limits) -> Vec<Value> {
    vec![
        n_param(l, 10),
        q("category", "string", "category, exact or path prefix"),
        q("brand", "string", "brand"),
        qs("min_price", json!({"type": "number", "minimum": 0}), "lowest price (not above max_price)"),
        qs("max_price", json!({"type": "number", "minimum": 0}), "highest price"),
        q("in_stock", "boolean", "only available items with stock (default true)"),
        qs(
            "exclude",
            json!({"type": "string"}),
            &format!("comma-separated item ids to leave out (at most {})", Limits::MAX_IDS),
        ),
        q("allow_repeat", "boolean", "allow items the user already has (default false)"),
        qs(
            "popularity_weight",
            json!({"type": "number", "minimum": 0, "maximum": Limits::MAX_WEIGHT}),
            "for you: weight of log-popularity added to the normalised score",
        ),
        qs(
            "novelty_weight",
            json!({"type": "number", "minimum": 0, "maximum": Limits::MAX_WEIGHT}),
            "for you: weight of item novelty (newer items)",
        ),
        qs(
            "max_per_category",
            json!({"type": "integer", "minimum": 1, "maximum": Limits::MAX_PER_CATEGORY}),
            "for you: at most this many items per category (diversity)",
        ),
        qs(
            "session_weight",
            json!({"type": "number", "minimum": 0, "maximum": 1}),
            "for you: share of the score from the current session (default 0.25, or the server's `session_weight`)",
        ),
        qs(
            "session_hours",
            json!({"type": "number", "minimum": 0, "maximum": Limits::MAX_SESSION_HOURS}),
            "for you: how far back the current session reaches, in hours (default 1, or the server's `session_hours`)",
        ),
        qs(
            "explore",
            json!({"type": "number", "minimum": 0, "maximum": 1}),
            "for you: share of the list kept for new arrivals",
        ),
        qs(
            "hours",
            json!({"type": "integer", "minimum": 1, "maximum": Limits::MAX_HOURS}),
            "trending: window in hours before the latest event (default 24)",
        ),
    ]
}

fn with_id(l: &Limits) -> Vec<Value> {
    let mut v = vec![p("id")];
    v.extend(filters(l));
    v
}

/// The OpenAPI document, with the service's `limits`.
pub fn document(limits: &Limits) -> Value {
    let mut doc = service(limits);
    let (schemas, paths) = web(limits);
    let (exp_schemas, exp_paths) = experiments();
    for (section, add) in [
        ("/components/schemas", schemas),
        ("/paths", paths),
        ("/components/schemas", exp_schemas),
        ("/paths", exp_paths),
    ] {
        if let (Some(to), Value::Object(add)) = (doc.pointer_mut(section).and_then(Value::as_object_mut), add) {
            to.extend(add);
        }
    }
    shared(&mut doc, limits);
    links(&mut doc);
    // the configured limits in one place a client reads before it sends anything
    doc["x-limits"] = json!({"body_limit": limits.body_limit, "max_batch": limits.max_batch, "max_n": limits.max_n});
    doc
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// `get /users/{id}/recommendations` → `get_users_id_recommendations` (`/` → `get_root`).
pub(crate) fn operation_id(method: &str, path: &str) -> String {
    let rest: Vec<&str> =
        path.split('/').filter(|p| !p.is_empty()).map(|p| p.trim_matches(|c| c == '{' || c == '}')).collect();
    let rest = if rest.is_empty() { "root".to_owned() } else { rest.join("_").replace(['-', '.'], "_") };
    format!("{method}_{rest}")
}

/// What every operation shares, added after the paths are written: an `operationId`, the
/// answers of the checks in front of every handler ([`crate::guard`]), and on each request body
/// the size the router accepts (`body_limit`) with its 413.
fn shared(doc: &mut Value, l: &Limits) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else { continue };
            op.entry("operationId").or_insert_with(|| json!(operation_id(method, path)));
            let has_body = op.contains_key("requestBody");
            if let Some(body) = op.get_mut("requestBody").and_then(Value::as_object_mut) {
                body.insert(
                    "description".into(),
                    json!(format!("JSON, at most {} bytes (the service's `body_limit`)", l.body_limit)),
                );
            }
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            let mut add = vec![
                ("421", "the Host header names neither this service's address, a loopback name nor an allowed host"),
                ("429", "over the rate limit (per API key, or per client address without a valid key)"),
            ];
            if method != "get" {
                add.push(("403", "a write or admin call from a foreign Origin (or without the key's scope)"));
            }
            if has_body {
                add.push(("415", "a request body that is not Content-Type: application/json"));
                responses.insert(
                    "413".into(),
                    json!({"description": format!("a request body larger than {} bytes (`body_limit`)", l.body_limit),
                           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
                );
            }
            for (code, why) in add {
                responses.entry(code).or_insert_with(
                    || json!({"description": why, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
                );
            }
        }
    }
}

/// Links between operations (what a stateful fuzzer, or a reader, follows): an item that was
/// just put, a user who just sent events, the users listed by the dashboard, a conversation.
fn links(doc: &mut Value) {
    let user_of = |expr: &str| {
        json!({
            "Recommendations": {"operationId": "get_users_id_recommendations", "parameters": {"id": expr}},
            "BuyAgain": {"operationId": "get_users_id_buy_again", "parameters": {"id": expr}},
            "History": {"operationId": "get_admin_users_id", "parameters": {"id": expr}},
            "Delete": {"operationId": "delete_users_id", "parameters": {"id": expr}}
        })
    };
    let item = json!({
        "Get": {"operationId": "get_items_id", "parameters": {"id": "$request.path.id"}},
        "Similar": {"operationId": "get_items_id_similar", "parameters": {"id": "$request.path.id"}},
        "BoughtTogether": {"operationId": "get_items_id_bought_together", "parameters": {"id": "$request.path.id"}},
        "Delete": {"operationId": "delete_items_id", "parameters": {"id": "$request.path.id"}}
    });
    let set = [
        ("/items/{id}", "put", "200", item.clone()),
        ("/items/{id}", "put", "201", item),
        ("/events", "post", "200", user_of("$request.body#/user")),
        ("/admin/users", "get", "200", user_of("$response.body#/users/0/user")),
        ("/users/{id}", "delete", "200", user_of("$request.path.id")),
        (
            "/assistant",
            "post",
            "200",
            json!({"Refine": {"operationId": "post_assistant",
                "requestBody": {"text": "cheaper", "conversation": "$response.body#/conversation"}}}),
        ),
        ("/admin/retrain", "post", "200", json!({"Model": {"operationId": "get_stats_model"}})),
        (
            "/admin/experiments",
            "post",
            "201",
            json!({
                "Start": {"operationId": "post_admin_experiments_name_start", "parameters": {"name": "$response.body#/name"}},
                "Results": {"operationId": "get_experiments_name", "parameters": {"name": "$response.body#/name"}},
                "Stop": {"operationId": "post_admin_experiments_name_stop", "parameters": {"name": "$response.body#/name"}}
            }),
        ),
    ];
    for (path, method, code, links) in set {
        if let Some(r) =
            doc.pointer_mut(&format!("/paths/{}/{method}/responses/{code}", path.replace('~', "~0").replace('/', "~1")))
        {
            r["links"] = links;
        }
    }
}

/// Search, the assistant and what the storefront and dashboard use (schemas, paths).
fn web(l: &Limits) -> (Value, Value) {
    let e4 = ["400", "401", "403"];
    let schemas = json!({
        "Ask": {"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": Limits::MAX_TEXT_BYTES, "pattern": "\\S",
                     "description": "the shopper's request, Chinese or English (\"300元以下的跑鞋\", \"cheaper\")"},
            "conversation": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$",
                             "description": "continue this conversation (from a previous answer)"},
            "user": {"allOf": [id_schema()], "description": "the shopper: personal ranking and reasons"},
            "n": {"type": "integer", "minimum": 1, "maximum": Limits::MAX_ASK_N.min(l.max_n), "description": "items wanted (default 10)"}}},
        "Answer": {"type": "object", "properties": {
            "conversation": {"type": "string"}, "reply": {"type": "string"},
            "parse": {"type": "object", "description": "what was understood: language, min_price, max_price, currency, categories, brands, exclude_brands, exclude_categories, attributes, exclude_attributes, recipient, occasion, sort, keywords, refinement, exclude_keywords, price_note"},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/AnswerItem"}},
            "closest": {"type": "array", "items": {"$ref": "#/components/schemas/AnswerItem"},
                        "description": "only when no item meets every constraint (then `items` is empty and the reply names the constraint that cannot be met): the nearest items, each with what it misses as its reason (\"¥199, above your ¥150 budget\"); never mixed into items"}}},
        "AnswerItem": {"type": "object", "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "price": {"type": "number", "nullable": true},
            "category": {"type": "string", "nullable": true}, "brand": {"type": "string", "nullable": true},
            "score": {"type": "number"}, "reason": {"type": "string"}}}
    });
    let paths = json!({
        "/": {"get": {"summary": "the web storefront (HTML; no key needed: its data calls use the API's scopes)", "security": [],
            "responses": {"200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        "/dashboard": {"get": {"summary": "the web dashboard (HTML; no key needed: its data calls use the API's scopes)", "security": [],
            "responses": {"200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
        "/search": {"get": {"summary": "product search over the catalogue, Chinese and English (scope read)",
            "parameters": [
                {"name": "q", "in": "query", "required": true, "description": "search text",
                 "schema": {"type": "string", "minLength": 1, "maxLength": Limits::MAX_TEXT_BYTES, "pattern": "\\S"}},
                n_param(l, 10)],
            "responses": responses(("200", ok("Picks")), &e4)}},
        "/assistant": {"post": {"summary": "the shopping assistant: one turn of a conversation; every item satisfies the request's constraints, ranked for the user, with a reason (scope read)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ask"}}}},
            "responses": responses(("200", ok("Answer")), &["400", "401", "403", "413"])}},
        "/stats/overview": {"get": {"summary": "data statistics: counts, events per day and kind, popularity long tail, items by category (scope read)",
            "responses": responses(("200", ok("Object")), &["401", "403"])}},
        "/stats/leaderboard": {"get": {"summary": "the stored model leaderboard (from `daogou demo` or POST /admin/evaluate) (scope read)",
            "responses": responses(("200", ok("Object")), &["401", "403"])}},
        "/stats/model": {"get": {"summary": "the current model, its feature importance (learned ranker), its versions since start, the model names, the last retrain (scope read)",
            "responses": responses(("200", ok("Object")), &["401", "403"])}},
        "/admin/evaluate": {"post": {"summary": "compare models on a time split of the stored data and store the leaderboard (scope admin)",
            "parameters": [q("wait", "boolean", "answer when the evaluation is done (default: 202 at once; 202 also when it outlasts the request timeout)")],
            "responses": {"200": ok("Object"), "202": ok("Object"), "400": err(), "401": err(), "403": err(), "409": err(), "422": err()}}},
        "/admin/users": {"get": {"summary": "the most active users known to the model (scope admin)",
            "parameters": [n_param(l, 20)],
            "responses": responses(("200", ok("Object")), &e4)}},
        "/admin/users/{id}": {"get": {"summary": "a user's stored history, newest first (scope admin)",
            "parameters": [p("id")], "responses": responses(("200", ok("Object")), &e4)}}
    });
    (schemas, paths)
}

/// An experiment or variant name.
fn name_schema() -> Value {
    json!({"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"})
}

/// The experiment endpoints (schemas, paths).
fn experiments() -> (Value, Value) {
    use crate::experiments::{MAX_VARIANTS, MAX_WINDOW_HOURS};
    let name = json!({"name": "name", "in": "path", "required": true, "schema": name_schema()});
    let schemas = json!({
        "Experiment": {"type": "object", "additionalProperties": false, "required": ["name", "variants", "primary_metric"], "properties": {
            "name": name_schema(),
            "variants": {"type": "array", "minItems": 2, "maxItems": MAX_VARIANTS, "description": "the first is the control",
                "items": {"$ref": "#/components/schemas/Variant"}},
            "primary_metric": {"type": "string", "enum": ["ctr", "add_to_cart_rate", "conversion_rate", "revenue_per_user"],
                "description": "the metric the sequential test watches"},
            "attribution_window_hours": {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_HOURS,
                "description": "an event without recommendation_id counts for the latest list shown to its user this many hours before it that held the item (default 24)"}}},
        "Variant": {"type": "object", "additionalProperties": false, "required": ["name", "share"], "properties": {
            "name": name_schema(),
            "share": {"type": "number", "exclusiveMinimum": true, "minimum": 0, "maximum": 1_000_000, "description": "traffic share (relative weight)"},
            "model": {"type": "string", "description": "a model name, or a model file on the server; none: the serving model"},
            "params": {"type": "object", "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]},
                "description": "hyperparameters of a named model"},
            "popularity_weight": {"type": "number", "minimum": 0, "maximum": Limits::MAX_WEIGHT},
            "novelty_weight": {"type": "number", "minimum": 0, "maximum": Limits::MAX_WEIGHT},
            "max_per_category": {"type": "integer", "minimum": 1, "maximum": Limits::MAX_PER_CATEGORY},
            "explore": {"type": "number", "minimum": 0, "maximum": 1},
            "session_weight": {"type": "number", "minimum": 0, "maximum": 1}}}
    });
    let paths = json!({
        "/admin/experiments": {"post": {"summary": "create an experiment (a draft): variants with their model and blending knobs, traffic shares, the primary metric; or start or stop one: {\"name\", \"action\": \"start\" | \"stop\"} (scope admin)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"oneOf": [
                {"$ref": "#/components/schemas/Experiment"},
                {"type": "object", "additionalProperties": false, "required": ["name", "action"], "properties": {
                    "name": name_schema(), "action": {"type": "string", "enum": ["start", "stop"]}}}]}}}},
            "responses": {"200": ok("Object"), "201": ok("Object"), "202": ok("Object"), "400": err(), "401": err(), "403": err(), "404": err(), "409": err(), "413": err(), "422": err()}}},
        "/admin/experiments/{name}/start": {"post": {"summary": "start a draft experiment: its variants' models are fitted or loaded, then every for-you and session answer of its shoppers carries experiment, variant and recommendation_id; one experiment runs at a time (scope admin)",
            "parameters": [name.clone()],
            "responses": {"200": ok("Object"), "202": ok("Object"), "400": err(), "401": err(), "403": err(), "404": err(), "409": err(), "422": err()}}},
        "/admin/experiments/{name}/stop": {"post": {"summary": "stop the running experiment: its results are final (scope admin)",
            "parameters": [name.clone()],
            "responses": {"200": ok("Object"), "400": err(), "401": err(), "403": err(), "404": err(), "409": err()}}},
        "/experiments": {"get": {"summary": "every experiment with its status (scope read)",
            "responses": {"200": ok("Object"), "401": err(), "403": err()}}},
        "/experiments/{name}": {"get": {"summary": "an experiment's results: per variant impressions, users and metrics with 95 % intervals, each variant against the control with an always-valid p-value, the sample-ratio check, the timeline (scope read)",
            "parameters": [name],
            "responses": {"200": ok("Object"), "400": err(), "401": err(), "403": err(), "404": err()}}}
    });
    (schemas, paths)
}

fn service(l: &Limits) -> Value {
    let e4 = ["400", "401", "403"];
    json!({
        "openapi": "3.0.3",
        "info": {"title": "daogou recommendation service", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Personal recommendations with reasons, real-time events, catalogue, privacy deletion. With API keys configured every endpoint except /health needs `Authorization: Bearer KEY` or `X-API-Key: KEY` with the scope named in each operation (401 without a valid key, 403 without the scope, 429 over the per-key rate limit). Errors are `{code, message}`."},
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"],
                          "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
                "Item": {"type": "object", "additionalProperties": false, "properties": {
                    "id": {"type": "string", "description": "when given, equal to the id in the path"},
                    "title": {"type": "string"}, "category": {"type": "string", "nullable": true},
                    "brand": {"type": "string", "nullable": true}, "price": {"type": "number", "minimum": 0, "nullable": true},
                    "available": {"type": "boolean"}, "stock": {"type": "integer", "nullable": true},
                    "created_at": {"type": "integer", "description": "unix seconds", "nullable": true},
                    "attributes": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "Event": {"type": "object", "additionalProperties": false, "required": ["user", "kind"], "properties": {
                    "user": id_schema(),
                    "item": {"allOf": [id_schema()], "description": "required except for a search"},
                    "kind": {"type": "string", "enum": ["view", "click", "search", "add_to_cart", "purchase", "return", "rating"]},
                    "value": {"type": "number", "minimum": -Limits::MAX_VALUE, "maximum": Limits::MAX_VALUE, "description": "quantity, or the rating (required for rating)"},
                    "timestamp": {"type": "integer", "description": "unix seconds; default now"},
                    "query": {"type": "string", "maxLength": Limits::MAX_TEXT_BYTES, "description": "search text (required for search)"},
                    "recommendation_id": {"type": "string", "pattern": "^r[0-9]{1,18}$", "description": "the list the event came from (an answer's recommendation_id in an experiment); without it the event is attributed to the latest list shown to the user within the window that held the item"}}},
                "Pick": {"type": "object", "properties": {
                    "item": {"type": "string"}, "title": {"type": "string"}, "score": {"type": "number"},
                    "reason": {"type": "string"}, "because": {"type": "string", "nullable": true},
                    "category": {"type": "string", "nullable": true}, "brand": {"type": "string", "nullable": true},
                    "price": {"type": "number", "nullable": true}}},
                "Picks": {"type": "object", "properties": {
                    "model": {"type": "string"}, "model_version": {"type": "integer"},
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Pick"}},
                    "experiment": {"type": "string", "description": "for you and sessions, in a running experiment: its name"},
                    "variant": {"type": "string", "description": "in a running experiment: the shopper's variant"},
                    "recommendation_id": {"type": "string", "description": "in a running experiment: this list's id, to send back with the events it leads to"}}},
                "Object": {"type": "object"}
            }
        },
        "security": [{"bearer": []}, {"apiKey": []}],
        "paths": {
            "/health": {"get": {"summary": "liveness, model and version (no key needed)", "security": [],
                                "responses": {"200": ok("Object")}}},
            "/openapi.json": {"get": {"summary": "this document (scope read)", "responses": responses(("200", ok("Object")), &["401", "403"])}},
            "/metrics": {"get": {"summary": "Prometheus metrics (scope read)", "responses": responses(("200",
                json!({"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}})), &["401", "403"])}},
            "/items/{id}": {
                "parameters": [p("id")],
                "get": {"summary": "a catalogue item (scope read)", "responses": responses(("200", ok("Item")), &["400", "401", "403", "404"])},
                "put": {"summary": "create or replace a catalogue item (scope write)",
                        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
                        "responses": {
                            "200": ok("Object"), "201": ok("Object"),
                            "400": err(), "401": err(), "403": err(), "413": err()}},
                "delete": {"summary": "remove an item from recommendations (scope write)",
                           "responses": responses(("200", ok("Object")), &["400", "401", "403", "404"])}
            },
            "/items/{id}/similar": {"get": {"summary": "customers who viewed this also viewed (scope read)",
                "parameters": with_id(l),
                "responses": responses(("200", ok("Picks")), &["400", "401", "403", "404", "409"])}},
            "/events": {"post": {"summary": "one event or a batch; answered after the transaction commits (scope write)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"oneOf": [
                    {"$ref": "#/components/schemas/Event"},
                    {"type": "array", "items": {"$ref": "#/components/schemas/Event"}, "maxItems": l.max_batch}]}}}},
                "responses": responses(("200", ok("Object")), &["400", "401", "403", "413"])}},
            "/users/{id}/recommendations": {"get": {"summary": "for you, with a reason per item; real time (scope read)",
                "parameters": with_id(l),
                "responses": responses(("200", ok("Picks")), &e4)}},
            "/users/{id}/buy-again": {"get": {"summary": "buy it again: the items the user bought (returns deducted), by how often and how recently; real time (scope read)",
                "parameters": with_id(l),
                "responses": responses(("200", ok("Picks")), &e4)}},
            "/users/{id}": {"delete": {"summary": "forget a user: events, live history, model influence (scope admin)",
                "parameters": [p("id")], "responses": responses(("200", ok("Object")), &e4)}},
            "/sessions/recommendations": {"post": {"summary": "anonymous session from the items it viewed (scope read)",
                "parameters": filters(l),
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false,
                    "required": ["items"], "properties": {"items": {"type": "array", "items": {"type": "string"}, "maxItems": Limits::MAX_IDS},
                    "session": {"allOf": [id_schema()], "description": "the session's id: assigns the session to a running experiment's variant"}}}}}},
                "responses": responses(("200", ok("Picks")), &["400", "401", "403", "413"])}},
            "/trending": {"get": {"summary": "most distinct shoppers in a time window (scope read)", "parameters": filters(l),
                "responses": responses(("200", ok("Picks")), &e4)}},
            "/new": {"get": {"summary": "new arrivals by created_at, also items no model knows yet (scope read)", "parameters": filters(l),
                "responses": responses(("200", ok("Picks")), &e4)}},
            "/items/{id}/bought-together": {"get": {"summary": "co-purchases: what the buyers of this item also bought (scope read)",
                "parameters": with_id(l), "responses": responses(("200", ok("Picks")), &["400", "401", "403", "404"])}},
            "/popular": {"get": {"summary": "most popular items (scope read)", "parameters": filters(l),
                "responses": responses(("200", ok("Picks")), &e4)}},
            "/admin/model": {"post": {"summary": "load a model file (path on the server) and swap it in; a damaged file is refused and the old model keeps serving (scope admin)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false,
                    "required": ["path"], "properties": {"path": {"type": "string", "minLength": 1, "description": "a model file on the server"}}}}}},
                "responses": responses(("200", ok("Object")), &["400", "401", "403", "413", "422"])}},
            "/admin/retrain": {"post": {"summary": "refit on the stored data and swap atomically; the old model keeps serving on failure (scope admin)",
                "parameters": [q("wait", "boolean", "answer when the refit is done (default: 202 at once; 202 also when it outlasts the request timeout; 409 while another refit runs)")],
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
                    "model": {"type": "string", "enum": daogou_algo::model_names()}, "params": {"type": "object"}, "weights": {"type": "string"}}}}}},
                "responses": {"200": ok("Object"), "202": ok("Object"), "400": err(), "401": err(), "403": err(), "409": err(), "422": err()}}}
        }
    })
}
