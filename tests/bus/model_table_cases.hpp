// The cases of tests/bus/model_table.test.cpp that every backend of
// bus::model_table passes: included inside a test suite (no include guard,
// no includes), after the suite defines `model_table_backends`, a
// std::tuple of fixtures, each with
// - `location`: what bus::model_table::open takes, a fresh file or database;
// - `table(name)`: the name the backend gives the table `name` of the
//   SQLite layout ("checkpoints", "parked", "model_users");
// - `sql(text)`, `select(query)`: raw SQL on it (select: the first value);
// - `json_field(column, field)`: SQL reading `field` of the JSON `column`;
// - `fail_updates_of(table)`, `fail_inserts_into(table, column, literal)`:
//   makes every update of `table`, or every insert whose `column` equals
//   the SQL `literal`, fail with "injected failure";
// - `fail_writes_to(table, message)`: makes every insert into or delete
//   from `table` fail with `message`;
// - `drop_failures(table)`: removes what the fail_* calls made on `table`.

// The users' documents (support/user_documents.hpp, which the including
// file includes first).
using bus::test::users_config;

index_model_config emails_config() {
  index_model_config cfg;
  cfg.name = "emails";
  cfg.key = "email";
  cfg.target = "id";
  cfg.set_on = {"UserCreated", "UserUpdated", "UserReplaced"};
  cfg.delete_on = {"UserDeleted"};
  return cfg;
}

// Events over few users and fewer emails, so that documents are merged,
// replaced and deleted, and emails move from user to user.
std::vector<event> user_stream(std::size_t n, unsigned seed = 7) {
  std::mt19937 rng{seed};
  std::vector<event> out;
  const char* types[] = {"UserCreated", "UserUpdated", "UserReplaced", "UserDeleted"};
  for (std::size_t i = 0; i < n; ++i) {
    event e;
    e.seq = i + 1;
    e.id = "e" + std::to_string(i);
    e.type = types[rng() % 4];
    e.payload["id"] = "u" + std::to_string(rng() % 30);
    if (e.type != "UserDeleted") {
      if (rng() % 3 != 0)
        e.payload["email"] = "m" + std::to_string(rng() % 20) + "@x.org";
      e.payload["n"] = static_cast<std::int64_t>(i);
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Applies events [first, last) of `stream` to `m`.
void apply_range(read_model& m, const std::vector<event>& stream, std::size_t first,
                 std::size_t last) {
  for (auto i = first; i < last; ++i)
    m.apply(stream[i]);
}

// Applies `stream` to a tracking `model` in batches of `batch`, committing
// each to `table` with its last seq as the checkpoint.
void apply_and_commit(read_model& model, bus::model_table& table,
                      const std::vector<event>& stream, std::size_t batch) {
  for (std::size_t i = 0; i < stream.size(); i += batch) {
    auto last = std::min(i + batch, stream.size());
    apply_range(model, stream, i, last);
    BOOST_REQUIRE(!table.commit(model, stream[last - 1].seq, {}));
  }
}

// Opens the users table at `location` for `users` (tracking its changes)
// and commits `stream` to it in batches of `batch`.
std::unique_ptr<bus::model_table> users_committed(const std::string& location,
                                                  bus::document_model& users,
                                                  const std::vector<event>& stream,
                                                  std::size_t batch) {
  users.track_changes();
  auto table = bus::model_table::open(location, "users", users.definition());
  BOOST_REQUIRE(table);
  apply_and_commit(users, **table, stream, batch);
  return std::move(*table);
}

template <class Model, class Config>
void check_reopen_equals_memory_model(const std::string& path, Config cfg) {
  auto stream = user_stream(500);
  Model memory{cfg};
  apply_range(memory, stream, 0, stream.size());
  {
    Model persisted{cfg};
    BOOST_REQUIRE(persisted.track_changes());
    auto table = bus::model_table::open(path, cfg.name, persisted.definition());
    BOOST_REQUIRE(table);
    apply_and_commit(persisted, **table, stream, 7);
  }
  auto table = bus::model_table::open(path, cfg.name, Model{cfg}.definition());
  BOOST_REQUIRE(table);
  auto loaded = (*table)->load();
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->checkpoint == 500u);
  BOOST_TEST(!loaded->definition_changed);
  Model reopened{cfg};
  BOOST_REQUIRE(reopened.restore(loaded->rows));
  BOOST_TEST(reopened.snapshot() == memory.snapshot());
  // The table holds exactly the keys the memory model answers, and a row
  // is what a query answers.
  BOOST_TEST(boost::json::value(loaded->rows) == memory.snapshot());
  // Loaded row by row: the same rows, handed over instead of kept.
  Model by_row{cfg};
  std::size_t taken = 0;
  auto streamed = (*table)->load([&](std::string_view key, boost::json::value& value) {
    ++taken;
    return by_row.restore_row(key, value);
  });
  BOOST_REQUIRE(streamed);
  BOOST_TEST(streamed->rows.empty());
  BOOST_TEST(streamed->checkpoint == 500u);
  BOOST_TEST(taken == loaded->rows.size());
  BOOST_TEST(by_row.snapshot() == memory.snapshot());
  // A sink that stops gets no more rows.
  taken = 0;
  auto stopped = (*table)->load([&](std::string_view, boost::json::value&) {
    ++taken;
    return taken < 3;
  });
  BOOST_REQUIRE(stopped);
  BOOST_TEST(taken == 3u);
  BOOST_TEST(stopped->checkpoint == 500u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(document_rows_reopen_equal_to_the_memory_model, Db,
                              model_table_backends) {
  Db db;
  check_reopen_equals_memory_model<bus::document_model>(db.location, users_config());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(index_rows_reopen_equal_to_the_memory_model, Db,
                              model_table_backends) {
  Db db;
  check_reopen_equals_memory_model<bus::index_model>(db.location, emails_config());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(rows_are_plain_sql_one_per_key, Db,
                              model_table_backends) {
  Db db;
  bus::document_model users{users_config()};
  users.track_changes();
  auto table = bus::model_table::open(db.location, "users", users.definition());
  BOOST_REQUIRE(table);
  auto users_table = db.table("model_users");
  auto checkpoints = db.table("checkpoints");
  BOOST_TEST((*table)->table_name() == users_table);
  event e;
  e.seq = 1;
  e.type = "UserCreated";
  e.payload = {{"id", "u1"}, {"name", "Ada"}};
  users.apply(e);
  BOOST_REQUIRE(!(*table)->commit(users, 1, {}));
  BOOST_TEST(db.select("SELECT value FROM " + users_table + " WHERE key = 'u1'")
             == R"({"id":"u1","name":"Ada"})");
  BOOST_TEST(
    db.select("SELECT " + db.json_field("value", "name") + " FROM " + users_table)
    == "Ada");
  BOOST_TEST(
    db.select("SELECT checkpoint FROM " + checkpoints + " WHERE model = 'users'")
    == "1");
  BOOST_TEST(db.select("SELECT table_name FROM " + checkpoints) == users_table);
  e.seq = 2;
  e.type = "UserDeleted";
  users.apply(e);
  BOOST_REQUIRE(!(*table)->commit(users, 2, {}));
  BOOST_TEST(db.select("SELECT count(*) FROM " + users_table) == "0");
  BOOST_TEST(db.select("SELECT checkpoint FROM " + checkpoints) == "2");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(commit_writes_only_the_keys_the_batch_changed, Db,
                              model_table_backends) {
  Db db;
  bus::document_model users{users_config()};
  users.track_changes();
  auto table = bus::model_table::open(db.location, "users", users.definition());
  BOOST_REQUIRE(table);
  auto stream = user_stream(100);
  apply_range(users, stream, 0, 100);
  BOOST_REQUIRE(!(*table)->commit(users, 100, {}));
  auto after_first = (*table)->rows_written();
  BOOST_TEST(after_first <= 30u);                   // 30 users, each written once
  BOOST_REQUIRE(!(*table)->commit(users, 101, {})); // nothing changed
  BOOST_TEST((*table)->rows_written() == after_first);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(
  failed_commit_leaves_rows_and_checkpoint_of_the_last_commit, Db,
  model_table_backends) {
  Db db;
  auto stream = user_stream(200);
  bus::document_model expected{users_config()};
  apply_range(expected, stream, 0, 100);
  {
    bus::document_model users{users_config()};
    users.track_changes();
    auto table = bus::model_table::open(db.location, "users", users.definition());
    BOOST_REQUIRE(table);
    apply_range(users, stream, 0, 100);
    BOOST_REQUIRE(!(*table)->commit(users, 100, {}));
    // The next commit fails after some of its rows were written, at the
    // checkpoint: a crash between the rows and the checkpoint.
    db.fail_updates_of(db.table("checkpoints"));
    apply_range(users, stream, 100, 150);
    auto err = (*table)->commit(users, 150, {});
    BOOST_REQUIRE(err);
    BOOST_TEST(code_of(err) == errc::storage_failed);
    BOOST_TEST(context_of(err).find("injected failure") != std::string::npos,
               context_of(err));
    db.drop_failures(db.table("checkpoints"));
    // And one fails in the middle of its rows.
    db.fail_inserts_into(db.table("model_users"), "key", "'u3'");
    bus::document_model again{users_config()};
    again.track_changes();
    apply_range(again, stream, 0, 200); // every user changes, u3 among them
    BOOST_REQUIRE((*table)->commit(again, 200, {}));
    db.drop_failures(db.table("model_users"));
  }
  auto table = bus::model_table::open(db.location, "users",
                                      bus::document_model{users_config()}.definition());
  BOOST_REQUIRE(table);
  auto loaded = (*table)->load();
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->checkpoint == 100u);
  BOOST_TEST(boost::json::value(loaded->rows) == expected.snapshot());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(seqs_above_the_checkpoint_come_back, Db,
                              model_table_backends) {
  Db db;
  bus::index_model emails{emails_config()};
  emails.track_changes();
  {
    auto table = bus::model_table::open(db.location, "emails", emails.definition());
    BOOST_REQUIRE(table);
    BOOST_REQUIRE(!(*table)->commit(emails, 40, {42, 45}));
  }
  auto table = bus::model_table::open(db.location, "emails", emails.definition());
  BOOST_REQUIRE(table);
  auto loaded = (*table)->load();
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->checkpoint == 40u);
  BOOST_TEST(loaded->above == (std::vector<std::uint64_t>{42, 45}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(
  changed_definition_empties_the_table_and_resets_the_checkpoint, Db,
  model_table_backends) {
  Db db;
  auto stream = user_stream(50);
  {
    bus::document_model users{users_config()};
    users_committed(db.location, users, stream, 10);
  }
  auto cfg = users_config();
  cfg.delete_on.clear(); // another definition
  bus::document_model changed{cfg};
  {
    auto table = bus::model_table::open(db.location, "users", changed.definition());
    BOOST_REQUIRE(table);
    auto loaded = (*table)->load();
    BOOST_REQUIRE(loaded);
    BOOST_TEST(loaded->definition_changed);
    BOOST_TEST(loaded->checkpoint == 0u);
    BOOST_TEST(loaded->rows.empty());
  }
  // Opened again under the same (new) definition, nothing more is dropped.
  changed.track_changes();
  auto table = bus::model_table::open(db.location, "users", changed.definition());
  BOOST_REQUIRE(table);
  apply_and_commit(changed, **table, stream, 10);
  auto reopened = bus::model_table::open(db.location, "users", changed.definition());
  BOOST_REQUIRE(reopened);
  auto loaded = (*reopened)->load();
  BOOST_REQUIRE(loaded);
  BOOST_TEST(!loaded->definition_changed);
  BOOST_TEST(loaded->checkpoint == 50u);
  BOOST_TEST(boost::json::value(loaded->rows) == changed.snapshot());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(clear_empties_the_table_and_resets_the_checkpoint, Db,
                              model_table_backends) {
  Db db;
  bus::document_model users{users_config()};
  users.track_changes();
  auto table = bus::model_table::open(db.location, "users", users.definition());
  BOOST_REQUIRE(table);
  apply_and_commit(users, **table, user_stream(30), 10);
  BOOST_REQUIRE(!(*table)->clear());
  auto loaded = (*table)->load();
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->checkpoint == 0u);
  BOOST_TEST(loaded->rows.empty());
}

// A projector taking the model over (blue/green) writes its whole state:
// none of the rows before stay, and its changes so far are in it.
BOOST_AUTO_TEST_CASE_TEMPLATE(replace_writes_the_whole_state_over_the_rows_before, Db,
                              model_table_backends) {
  Db db;
  auto stream = user_stream(120);
  bus::document_model before{users_config()};
  auto table = users_committed(db.location, before, stream, 40);
  // Another instance that saw only the first half, never committed.
  bus::document_model after{users_config()};
  after.track_changes();
  apply_range(after, stream, 0, 60);
  bus::parking_lot lot;
  lot.track_changes();
  BOOST_REQUIRE(!table->replace(after, 60, {62}, lot));
  auto loaded = table->load();
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->checkpoint == 60u);
  BOOST_TEST((loaded->above == std::vector<std::uint64_t>{62}));
  BOOST_TEST(boost::json::value(loaded->rows) == after.snapshot());
  // Its changes were written: the next commit writes only later ones.
  auto written = table->rows_written();
  BOOST_REQUIRE(!table->commit(after, 60, {62}));
  BOOST_TEST(table->rows_written() == written);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(models_share_a_database_each_with_its_own_table, Db,
                              model_table_backends) {
  Db db;
  bus::document_model users{users_config()};
  bus::index_model emails{emails_config()};
  users.track_changes();
  emails.track_changes();
  // A model name that SQL would otherwise misread.
  auto a = bus::model_table::open(db.location, R"(users "v2"; drop)",
                                  users.definition());
  auto b = bus::model_table::open(db.location, "emails", emails.definition());
  BOOST_REQUIRE(a);
  BOOST_REQUIRE(b);
  auto stream = user_stream(60);
  apply_and_commit(users, **a, stream, 60);
  apply_range(emails, stream, 0, 30);
  BOOST_REQUIRE(!(*b)->commit(emails, 30, {}));
  auto la = (*a)->load();
  auto lb = (*b)->load();
  BOOST_REQUIRE(la);
  BOOST_REQUIRE(lb);
  BOOST_TEST(la->checkpoint == 60u);
  BOOST_TEST(lb->checkpoint == 30u);
  BOOST_TEST(boost::json::value(la->rows) == users.snapshot());
  BOOST_TEST(boost::json::value(lb->rows) == emails.snapshot());
}
