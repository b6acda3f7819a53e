// The cases of tests/bus/model_table_parked.test.cpp that every backend
// of bus::model_table passes, with the fixtures model_table_cases.hpp
// describes: included inside a test suite after it defines
// `model_table_backends`.

document_model_config users_config() {
  document_model_config cfg;
  cfg.name = "users";
  cfg.key = "id";
  cfg.merge_on = {"UserUpdated"};
  return cfg;
}

event update(std::uint64_t seq, const std::string& user, std::int64_t n) {
  event e;
  e.seq = seq;
  e.id = "e" + std::to_string(seq);
  e.type = "UserUpdated";
  e.payload["id"] = user;
  e.payload["n"] = n;
  return e;
}

parked_event poison(std::uint64_t seq, const std::string& user) {
  parked_event x;
  x.event = update(seq, user, -1);
  x.key = user;
  x.error = "cannot apply " + std::to_string(seq);
  x.attempts = 3;
  x.parked_at = 1700000000000;
  return x;
}

// A users model with its table and a tracking lot, as a projector holds them.
struct projection {
  document_model model{users_config()};
  bus::parking_lot lot;
  std::unique_ptr<bus::model_table> table;

  explicit projection(const std::string& path) {
    model.track_changes();
    lot.track_changes();
    auto t = bus::model_table::open(path, "users", model.definition());
    BOOST_REQUIRE(t);
    table = std::move(*t);
  }

  caf::error commit(std::uint64_t checkpoint) {
    return table->commit(model, checkpoint, {}, &lot);
  }
};

// Loads what the table holds after reopening it.
table_contents reload(const std::string& path) {
  auto table = bus::model_table::open(path, "users",
                                      document_model{users_config()}.definition());
  BOOST_REQUIRE(table);
  auto loaded = (*table)->load();
  BOOST_REQUIRE(loaded);
  return std::move(*loaded);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(parked_events_come_back_in_seq_order_with_the_checkpoint,
                              Db, model_table_backends) {
  Db db;
  {
    projection p{db.location};
    p.model.apply(update(1, "u1", 1));
    p.lot.park(poison(3, "u2"));
    p.lot.park(poison(2, "u1"));
    p.lot.park_behind(update(4, "u1", 4), "u1", 1700000000001);
    BOOST_REQUIRE(!p.commit(4));
  }
  auto loaded = reload(db.location);
  BOOST_TEST(loaded.checkpoint == 4u);
  BOOST_TEST(seqs(loaded.parked) == (seq_list{2, 3, 4}));
  BOOST_TEST(loaded.parked[0].error == "cannot apply 2");
  BOOST_TEST(*loaded.parked[2].key == "u1");
  BOOST_TEST((loaded.parked[2].reason == park_reason::behind));
  BOOST_TEST(loaded.parked[2].behind == 2u);
  BOOST_TEST(loaded.parked[2].event.payload.at("n").as_int64() == 4);
  // Plain SQL for an operator.
  auto parked = db.table("parked");
  BOOST_TEST(db.select("SELECT count(*) FROM " + parked + " WHERE model = 'users'")
             == "3");
  BOOST_TEST(db.select("SELECT " + db.json_field("entry", "error") + " FROM " + parked
                       + " WHERE seq = 3")
             == "cannot apply 3");
  // A lot restored from them blocks what it blocked.
  bus::parking_lot lot;
  lot.restore(loaded.parked);
  BOOST_TEST(lot.blocks("u1"));
  BOOST_TEST(lot.blocks("u2"));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_retry_commits_rows_and_parked_set_together, Db,
                              model_table_backends) {
  Db db;
  projection p{db.location};
  p.lot.park(poison(2, "u1"));
  p.lot.park_behind(update(3, "u1", 3), "u1", 0);
  p.lot.park(poison(4, "u2"));
  BOOST_REQUIRE(!p.commit(4));
  // The model is fixed: the retried events apply, in order, with no new
  // event, so the checkpoint stays.
  auto taken = p.lot.take(2);
  BOOST_REQUIRE(taken);
  for (auto& x : *taken)
    p.model.apply(x.event);
  BOOST_REQUIRE(!p.commit(4));
  // Read through the projector's own table: another opener would take the
  // model over (PostgreSQL) and refuse its next commit.
  auto loaded = *p.table->load();
  BOOST_TEST(loaded.checkpoint == 4u);
  BOOST_TEST(seqs(loaded.parked) == (seq_list{4}));
  BOOST_TEST(boost::json::serialize(loaded.rows.at("u1")) == R"({"id":"u1","n":3})");
  // A discard drops the row of the parked event alone.
  BOOST_REQUIRE(p.lot.discard(4));
  BOOST_REQUIRE(!p.commit(4));
  BOOST_TEST(reload(db.location).parked.empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_batch_that_parks_nothing_writes_nothing_parked, Db,
                              model_table_backends) {
  Db db;
  projection p{db.location};
  p.lot.park(poison(2, "u1"));
  BOOST_REQUIRE(!p.commit(2));
  // Any write to the parked table now fails: a commit that touches it fails.
  db.fail_writes_to(db.table("parked"), "parked written");
  p.model.apply(update(3, "u2", 3));
  BOOST_TEST(!p.commit(3));
  BOOST_REQUIRE(!p.table->commit(p.model, 4, {})); // without a lot, too
  p.lot.park(poison(5, "u3"));
  auto err = p.commit(5);
  BOOST_REQUIRE(err);
  BOOST_TEST(context_of(err).find("parked written") != std::string::npos);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_failed_commit_leaves_the_previous_parked_set, Db,
                              model_table_backends) {
  Db db;
  {
    projection p{db.location};
    p.model.apply(update(1, "u1", 1));
    p.lot.park(poison(2, "u2"));
    BOOST_REQUIRE(!p.commit(2));
    // The next commit fails at the checkpoint, after its rows and parked
    // events were written: a crash in the middle of the transaction.
    db.fail_updates_of(db.table("checkpoints"));
    p.model.apply(update(3, "u1", 3));
    p.lot.park(poison(4, "u3"));
    BOOST_REQUIRE(p.lot.discard(2));
    auto err = p.commit(4);
    BOOST_REQUIRE(err);
    BOOST_TEST(code_of(err) == errc::storage_failed);
    db.drop_failures(db.table("checkpoints"));
    // And one fails in the middle of its parked events.
    db.fail_inserts_into(db.table("parked"), "seq", "6");
    p.lot.park(poison(5, "u5"));
    p.lot.park(poison(6, "u6"));
    BOOST_REQUIRE(p.commit(6));
  }
  auto loaded = reload(db.location);
  BOOST_TEST(loaded.checkpoint == 2u);
  BOOST_TEST(seqs(loaded.parked) == (seq_list{2}));
  BOOST_TEST(boost::json::serialize(loaded.rows.at("u1")) == R"({"id":"u1","n":1})");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_new_definition_or_a_clear_drops_the_parked_events, Db,
                              model_table_backends) {
  Db db;
  {
    projection p{db.location};
    p.lot.park(poison(2, "u1"));
    BOOST_REQUIRE(!p.commit(2));
    BOOST_REQUIRE(!p.table->clear());
    BOOST_TEST(p.table->load()->parked.empty());
    p.lot.clear(); // the projector's rebuild forgets them, too
    p.lot.park(poison(2, "u1"));
    BOOST_REQUIRE(!p.commit(2));
  }
  auto cfg = users_config();
  cfg.merge_on.push_back("UserRenamed");
  document_model changed{cfg};
  auto table = bus::model_table::open(db.location, "users", changed.definition());
  BOOST_REQUIRE(table);
  auto loaded = (*table)->load();
  BOOST_REQUIRE(loaded);
  BOOST_TEST(loaded->definition_changed);
  BOOST_TEST(loaded->parked.empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(models_keep_their_own_parked_events, Db,
                              model_table_backends) {
  Db db;
  projection p{db.location};
  document_model other{[] {
    auto cfg = users_config();
    cfg.name = "others";
    return cfg;
  }()};
  other.track_changes();
  auto other_table = bus::model_table::open(db.location, "others", other.definition());
  BOOST_REQUIRE(other_table);
  bus::parking_lot other_lot;
  other_lot.track_changes();
  p.lot.park(poison(2, "u1"));
  other_lot.park(poison(2, "u1")); // the same event, parked by both
  other_lot.park(poison(3, "u2"));
  BOOST_REQUIRE(!p.commit(3));
  BOOST_REQUIRE(!(*other_table)->commit(other, 3, {}, &other_lot));
  BOOST_REQUIRE(other_lot.discard(2));
  BOOST_REQUIRE(!(*other_table)->commit(other, 3, {}, &other_lot));
  BOOST_TEST(seqs(p.table->load()->parked) == (seq_list{2}));
  BOOST_TEST(seqs((*other_table)->load()->parked) == (seq_list{3}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_parked_event_that_does_not_decode_is_a_storage_error,
                              Db, model_table_backends) {
  Db db;
  {
    projection p{db.location};
    p.lot.park(poison(2, "u1"));
    BOOST_REQUIRE(!p.commit(2));
  }
  db.sql("UPDATE " + db.table("parked")
         + " SET entry = '{\"event\": 1}' WHERE seq = 2");
  auto table = bus::model_table::open(db.location, "users",
                                      document_model{users_config()}.definition());
  BOOST_REQUIRE(table);
  auto loaded = (*table)->load();
  BOOST_REQUIRE(!loaded);
  BOOST_TEST(code_of(loaded.error()) == errc::storage_failed);
  BOOST_TEST(context_of(loaded.error()).find("parked event 2 does not decode")
               != std::string::npos,
             context_of(loaded.error()));
}
