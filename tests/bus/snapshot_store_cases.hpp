// The cases of tests/bus/snapshot_store.test.cpp that every backend of
// bus::snapshot_store passes: included inside a test suite (no include
// guard, no includes), after the suite defines `snapshot_backends`, a
// std::tuple of fixtures, each with
// - `location`: what snapshot_store::open takes, a fresh file or database;
// - `table(name)`: the name the backend gives the table `name`;
// - `sql(text)`, `select(query)`: raw SQL on it (select: the first value);
// - `fail_inserts_into(name)`: makes every insert into `name` fail.
parked_event parked_at(std::uint64_t seq, std::string key) {
  parked_event x;
  x.event = make_event("UserUpdated", R"({"id": "u1"})");
  x.event.seq = seq;
  x.key = std::move(key);
  x.error = "boom";
  x.attempts = 3;
  x.parked_at = 1700000000000;
  return x;
}

// Claims `model` and saves `x` under the new generation; the error, if any.
caf::error save(bus::snapshot_store& store, const std::string& model,
                const bus::snapshot& x) {
  auto claimed = store.claim(model);
  if (!claimed)
    return claimed.error();
  auto saved = store.save(model, x, claimed->generation);
  if (!saved)
    return saved.error();
  BOOST_TEST((*saved == save_outcome::saved));
  return caf::none;
}

std::vector<std::uint64_t> parked_seqs(const bus::snapshot& x) {
  std::vector<std::uint64_t> out;
  for (auto& p : x.parked)
    out.push_back(p.seq());
  return out;
}

// A rows snapshot of `rows` at `checkpoint`.
bus::snapshot rows_at(std::uint64_t checkpoint, std::string rows) {
  bus::snapshot x{checkpoint, {}, "def", std::move(rows)};
  x.layout = snapshot_layout::rows;
  return x;
}

std::string row(const std::string& key, int value) {
  std::string out;
  auto v = boost::json::value(value);
  append_row(out, key, &v);
  return out;
}

std::string removed(const std::string& key) {
  std::string out;
  append_row(out, key, nullptr);
  return out;
}

boost::json::object state_of(const bus::snapshot& x) {
  auto state = rows_state(x.state);
  BOOST_REQUIRE(state);
  return *state;
}

BOOST_AUTO_TEST_CASE_TEMPLATE(saved_snapshot_comes_back_after_reopening, Db,
                              snapshot_backends) {
  Db db;
  {
    auto store = bus::snapshot_store::open(db.location);
    BOOST_REQUIRE(store);
    bus::snapshot x{42, {44, 47}, "def", R"({"a": 1})"};
    BOOST_TEST(!save(**store, "m", x));
    x.checkpoint = 50; // a later snapshot replaces the earlier one
    x.above = {};
    BOOST_TEST(!save(**store, "m", x));
  }
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_REQUIRE(loaded->has_value());
  BOOST_TEST((*loaded)->checkpoint == 50u);
  BOOST_TEST((*loaded)->above.empty());
  BOOST_TEST((*loaded)->definition == "def");
  BOOST_TEST((*loaded)->state == R"({"a": 1})");
  auto missing = (*store)->load("other");
  BOOST_REQUIRE(missing);
  BOOST_TEST(!missing->has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(parked_events_come_back_with_their_snapshot, Db,
                              snapshot_backends) {
  Db db;
  {
    auto store = bus::snapshot_store::open(db.location);
    BOOST_REQUIRE(store);
    bus::snapshot x{42, {}, "def", "{}"};
    x.parked = {parked_at(40, "u1"), parked_at(41, "u1")};
    x.parked[1].reason = park_reason::behind;
    x.parked[1].behind = 40;
    BOOST_TEST(!save(**store, "m", x));
    BOOST_TEST(!save(**store, "n", bus::snapshot{7, {}, "", "{}"}));
  }
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_REQUIRE(loaded->has_value());
  BOOST_TEST(parked_seqs(**loaded) == (std::vector<std::uint64_t>{40, 41}));
  BOOST_TEST((*loaded)->parked[0].error == "boom");
  BOOST_TEST(*(*loaded)->parked[1].key == "u1");
  BOOST_TEST((*loaded)->parked[1].behind == 40u);
  auto other = (*store)->load("n");
  BOOST_REQUIRE(other);
  BOOST_TEST((*other)->parked.empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_failed_save_leaves_the_previous_snapshot_and_parked_set,
                              Db, snapshot_backends) {
  Db db;
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  bus::snapshot x{10, {}, "def", R"({"a": 1})"};
  x.parked = {parked_at(9, "u1")};
  BOOST_REQUIRE(!save(**store, "m", x));
  db.fail_inserts_into("snapshots");
  bus::snapshot y{20, {}, "def", R"({"a": 2})"};
  y.parked = {parked_at(15, "u2")}; // 9 retried, 15 parked
  auto err = save(**store, "m", y);
  BOOST_REQUIRE(err);
  BOOST_TEST(code_of(err) == errc::storage_failed);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_TEST((*loaded)->checkpoint == 10u);
  BOOST_TEST((*loaded)->state == R"({"a": 1})");
  BOOST_TEST(parked_seqs(**loaded) == (std::vector<std::uint64_t>{9}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(parked_events_that_do_not_decode_are_a_storage_error, Db,
                              snapshot_backends) {
  Db db;
  {
    auto store = bus::snapshot_store::open(db.location);
    BOOST_REQUIRE(store);
    bus::snapshot x{8, {}, "def", "{}"};
    x.parked = {parked_at(6, "u1")};
    BOOST_REQUIRE(!save(**store, "m", x));
  }
  db.sql("UPDATE " + db.table("snapshots")
         + " SET parked = '[{\"reason\": \"failed\"}]'");
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(!loaded);
  BOOST_TEST(code_of(loaded.error()) == errc::storage_failed);
  BOOST_TEST(context_of(loaded.error()).find("parked events of 'm'")
               != std::string::npos,
             context_of(loaded.error()));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(deltas_follow_their_base_and_come_back_in_order, Db,
                              snapshot_backends) {
  Db db;
  {
    auto store = bus::snapshot_store::open(db.location);
    BOOST_REQUIRE(store);
    auto gen = (*store)->claim("m")->generation;
    auto saved = [&](const bus::snapshot& x, rows_write how) {
      auto r = (*store)->save("m", x, gen, how);
      return r && *r == save_outcome::saved;
    };
    BOOST_TEST(saved(rows_at(10, row("a", 1) + row("b", 2)), rows_write::base));
    BOOST_TEST(saved(rows_at(20, row("a", 3) + removed("b")), rows_write::delta));
    auto no_change = rows_at(30, "");
    no_change.above = {32};
    BOOST_TEST(saved(no_change, rows_write::delta)); // only the checkpoint moves
  }
  // One part per delta with rows; the state of each change, in order.
  BOOST_TEST(db.select("SELECT count(*) FROM " + db.table("snapshot_rows")
                       + " WHERE model = 'm'")
             == "2");
  BOOST_TEST(
    db.select("SELECT layout FROM " + db.table("snapshots") + " WHERE model = 'm'")
    == "rows");
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_REQUIRE(loaded->has_value());
  BOOST_TEST(((*loaded)->layout == snapshot_layout::rows));
  BOOST_TEST((*loaded)->checkpoint == 30u);
  BOOST_TEST((*loaded)->above == (std::vector<std::uint64_t>{32}));
  BOOST_TEST(state_of(**loaded) == bus::test::json(R"({"a": 3})"));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_delta_needs_rows_to_follow, Db, snapshot_backends) {
  Db db;
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  auto gen = (*store)->claim("m")->generation;
  // Nothing stored, then a whole snapshot: a delta would describe another
  // state, and is refused with nothing written.
  for (int round = 0; round < 2; ++round) {
    auto r = (*store)->save("m", rows_at(5, row("a", 1)), gen, rows_write::delta);
    BOOST_REQUIRE(!r);
    BOOST_TEST(code_of(r.error()) == errc::storage_failed);
    auto whole = (*store)->save("m", bus::snapshot{4, {}, "def", "[1]"}, gen);
    BOOST_REQUIRE(whole);
  }
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_TEST((*loaded)->checkpoint == 4u);
  BOOST_TEST((*loaded)->state == "[1]");
  BOOST_TEST(db.select("SELECT count(*) FROM " + db.table("snapshot_rows")) == "0");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(
  a_whole_snapshot_replaces_the_rows_and_a_base_replaces_both, Db, snapshot_backends) {
  Db db;
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  auto gen = (*store)->claim("m")->generation;
  BOOST_REQUIRE((*store)->save("m", rows_at(1, row("a", 1)), gen));
  BOOST_REQUIRE((*store)->save("m", rows_at(2, row("b", 2)), gen, rows_write::delta));
  BOOST_REQUIRE((*store)->save("m", bus::snapshot{3, {}, "def", "{}"}, gen));
  BOOST_TEST(db.select("SELECT count(*) FROM " + db.table("snapshot_rows")) == "0");
  BOOST_TEST(((*store)->load("m")->value().layout == snapshot_layout::whole));
  BOOST_REQUIRE((*store)->save("m", rows_at(4, row("c", 3)), gen, rows_write::base));
  BOOST_REQUIRE((*store)->save("m", rows_at(5, row("d", 4)), gen, rows_write::delta));
  BOOST_REQUIRE((*store)->save("m", rows_at(6, row("e", 5)), gen, rows_write::base));
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_TEST(state_of(**loaded) == bus::test::json(R"({"e": 5})"));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(writes_under_an_older_claim_are_superseded, Db,
                              snapshot_backends) {
  Db db;
  auto first = bus::snapshot_store::open(db.location);
  auto second = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(second);
  auto old_gen = (*first)->claim("m")->generation;
  BOOST_REQUIRE((*first)->save("m", rows_at(10, row("a", 1)), old_gen));
  // Another projector claims the model: it sees what the first committed.
  auto claim = (*second)->claim("m");
  BOOST_REQUIRE(claim);
  BOOST_TEST(claim->generation > old_gen);
  BOOST_REQUIRE(claim->stored);
  BOOST_TEST(claim->stored->checkpoint == 10u);
  // The first one's later writes change nothing.
  for (auto how : {rows_write::delta, rows_write::base}) {
    auto late = (*first)->save("m", rows_at(20, row("a", 2)), old_gen, how);
    BOOST_REQUIRE(late);
    BOOST_TEST((*late == save_outcome::superseded));
  }
  auto late_whole = (*first)->save("m", bus::snapshot{20, {}, "def", "{}"}, old_gen);
  BOOST_REQUIRE(late_whole);
  BOOST_TEST((*late_whole == save_outcome::superseded));
  auto late_fold = (*first)->compact("m", old_gen);
  BOOST_REQUIRE(late_fold);
  BOOST_TEST((*late_fold == save_outcome::superseded));
  auto now = (*second)->save("m", rows_at(15, row("b", 1)), claim->generation,
                             rows_write::delta);
  BOOST_REQUIRE(now);
  BOOST_TEST((*now == save_outcome::saved));
  auto loaded = (*second)->load("m");
  BOOST_TEST((*loaded)->checkpoint == 15u);
  BOOST_TEST(state_of(**loaded) == bus::test::json(R"({"a": 1, "b": 1})"));
  // Other models are not claimed by it.
  auto other = (*first)->claim("n");
  BOOST_REQUIRE(other);
  BOOST_TEST(!other->stored);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(deltas_that_outgrow_the_base_fold_into_a_new_one, Db,
                              snapshot_backends) {
  Db db;
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  auto gen = (*store)->claim("m")->generation;
  std::string base;
  for (int k = 0; k < 2000; ++k)
    base += row("key-" + std::to_string(k), k);
  BOOST_REQUIRE((*store)->save("m", rows_at(1, base), gen));
  std::uint64_t checkpoint = 1;
  std::size_t deltas = 0;
  // Deltas of 200 changes each (some removals) until a fold is due: not
  // before they hold twice the base and 64 KiB.
  for (;;) {
    BOOST_REQUIRE(deltas < 100);
    auto due = (*store)->compaction_due("m");
    BOOST_REQUIRE(due);
    if (*due)
      break;
    std::string delta;
    for (int i = 0; i < 200; ++i) {
      auto k = "key-"
               + std::to_string((deltas * 200 + static_cast<std::size_t>(i)) * 7
                                % 2500);
      delta += i % 10 == 0 ? removed(k) : row(k, static_cast<int>(deltas));
    }
    BOOST_REQUIRE(
      (*store)->save("m", rows_at(++checkpoint, delta), gen, rows_write::delta));
    ++deltas;
  }
  auto delta_bytes = std::stoull(db.select("SELECT sum(bytes) FROM "
                                           + db.table("snapshot_rows")
                                           + " WHERE model = 'm' AND part > 0"));
  BOOST_TEST(delta_bytes >= 2 * base.size());
  BOOST_TEST(delta_bytes >= 64u * 1024);
  auto before = (*store)->load("m");
  BOOST_REQUIRE(before);
  // Given up (its projector stops): nothing written, still due.
  std::atomic<bool> cancelled{true};
  auto given_up = (*store)->compact("m", gen, &cancelled);
  BOOST_REQUIRE(given_up);
  BOOST_TEST((*given_up == save_outcome::cancelled));
  BOOST_TEST(std::stoull(db.select("SELECT count(*) FROM " + db.table("snapshot_rows")
                                   + " WHERE model = 'm'"))
             == deltas + 1);
  BOOST_TEST(*(*store)->compaction_due("m"));
  cancelled = false;
  auto folded = (*store)->compact("m", gen, &cancelled);
  BOOST_REQUIRE(folded);
  BOOST_TEST((*folded == save_outcome::saved));
  BOOST_TEST(!*(*store)->compaction_due("m"));
  // One base of one line per key, and the same snapshot as before.
  BOOST_TEST(db.select("SELECT count(*) FROM " + db.table("snapshot_rows")
                       + " WHERE model = 'm'")
             == "1");
  auto after = bus::snapshot_store::open(db.location).value()->load("m");
  BOOST_REQUIRE(after);
  BOOST_TEST((*after)->checkpoint == (*before)->checkpoint);
  BOOST_TEST(state_of(**after) == state_of(**before));
  BOOST_TEST(std::count((*after)->state.begin(), (*after)->state.end(), '\n')
             == static_cast<std::ptrdiff_t>(state_of(**after).size()));
  // Deltas go on after the fold.
  BOOST_REQUIRE(
    (*store)->save("m", rows_at(++checkpoint, row("new", 1)), gen, rows_write::delta));
  BOOST_TEST(state_of(*(*store)->load("m").value()).at("new") == boost::json::value(1));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_failed_delta_leaves_the_previous_snapshot, Db,
                              snapshot_backends) {
  Db db;
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  auto gen = (*store)->claim("m")->generation;
  BOOST_REQUIRE((*store)->save("m", rows_at(10, row("a", 1)), gen));
  db.fail_inserts_into("snapshot_rows");
  auto failed = (*store)->save("m", rows_at(20, row("a", 2)), gen, rows_write::delta);
  BOOST_REQUIRE(!failed);
  BOOST_TEST(code_of(failed.error()) == errc::storage_failed);
  auto loaded = (*store)->load("m");
  BOOST_REQUIRE(loaded);
  BOOST_TEST((*loaded)->checkpoint == 10u);
  BOOST_TEST(state_of(**loaded) == bus::test::json(R"({"a": 1})"));
}

// Record rows (snapshot_rows.hpp) as a projector of a declarative model
// writes them, over a base of JSON rows as an earlier release wrote it:
// each backend keeps them (PostgreSQL as JSON lines), folds them with the
// JSON rows and gives back the same state.
BOOST_AUTO_TEST_CASE_TEMPLATE(record_rows_mix_with_json_rows, Db, snapshot_backends) {
  Db db;
  auto store = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(store);
  auto gen = (*store)->claim("m")->generation;
  auto record = [](const std::string& key, int value) {
    std::string value_bytes(1, static_cast<char>(bus::internal::tag_int64));
    bus::internal::put_varint(value_bytes, static_cast<std::uint64_t>(value) * 2);
    std::string out;
    append_record_row(out, key, value_bytes);
    return out;
  };
  std::string base;
  for (int k = 0; k < 2000; ++k)
    base += row("key-" + std::to_string(k), k);
  BOOST_REQUIRE((*store)->save("m", rows_at(1, base), gen));
  boost::json::object expected;
  for (int k = 0; k < 2000; ++k)
    expected["key-" + std::to_string(k)] = k;
  std::uint64_t checkpoint = 1;
  for (int d = 0; !*(*store)->compaction_due("m"); ++d) {
    BOOST_REQUIRE(d < 100);
    std::string delta;
    for (int i = 0; i < 300; ++i) {
      auto key = "key-" + std::to_string((d * 300 + i) * 7 % 2500);
      if (i % 10 == 0) {
        std::string gone;
        append_record_row(gone, key, {});
        delta += gone;
        expected.erase(key);
      } else {
        delta += i % 3 == 0 ? row(key, d) : record(key, d);
        expected[key] = d;
      }
    }
    BOOST_REQUIRE(
      (*store)->save("m", rows_at(++checkpoint, delta), gen, rows_write::delta));
  }
  auto before = (*store)->load("m");
  BOOST_REQUIRE(before && before->has_value());
  BOOST_TEST(state_of(**before) == expected);
  auto folded = (*store)->compact("m", gen);
  BOOST_REQUIRE(folded);
  BOOST_TEST((*folded == save_outcome::saved));
  auto reopened = bus::snapshot_store::open(db.location);
  BOOST_REQUIRE(reopened);
  auto after = (*reopened)->load("m");
  BOOST_REQUIRE(after && after->has_value());
  BOOST_TEST(state_of(**after) == expected);
}
