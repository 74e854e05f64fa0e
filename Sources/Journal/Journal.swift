import Foundation
import GRDB
import Secrets
import Timekeeping

/// The agent's audit trail and write-ahead log, one SQLite file. Every proposal, approval and
/// action is written before it happens (an intent), its steps as they happen, and marked done
/// after; intents still open after a crash are what a restart reconciles.
public final class Journal: Sendable {
    public struct Entry: Sendable, Equatable {
        public var id: Int64
        /// Seconds since 1970.
        public var at: Double
        public var kind: String
        public var target: String?
        public var provider: String?
        /// The intent this entry belongs to (steps and results).
        public var intent: Int64?
        /// Free text or JSON, redacted by the caller.
        public var detail: String
    }

    public struct Intent: Sendable, Equatable {
        public var id: Int64
        public var at: Double
        /// `failover` or `restore`.
        public var action: String
        public var target: String
        public var provider: String
        public var detail: String
        /// Step names recorded so far, in order, with their details.
        public var steps: [(name: String, detail: String)]

        public static func == (a: Intent, b: Intent) -> Bool {
            a.id == b.id && a.action == b.action && a.target == b.target && a.provider == b.provider
                && a.steps.map(\.name) == b.steps.map(\.name)
        }

        public func step(_ name: String) -> String? { steps.last { $0.name == name }?.detail }
    }

    /// The journal's record of a proposal: what it would write and deploy, and how it ended (the
    /// core holds the live proposal: its expiry on the agent's clock and whether it may be approved).
    public struct ProposalRecord: Sendable, Equatable {
        /// `executed`: approved and carried out; `failed`: approved, but the action was refused or failed.
        public enum Status: String, Sendable { case open, approved, rejected, expired, executed, failed, superseded }
        /// Short, typed by a person: `failover-agent approve <id>`.
        public var id: String
        public var created: Double
        public var expires: Double
        public var action: String
        public var target: String
        public var provider: String
        /// The plan as JSON.
        public var plan: String
        /// The pipeline SHA it would deploy and the secret version it was planned from.
        public var sha: String
        public var secretVersion: Int
        public var status: Status

        public init(
            id: String, created: Double, expires: Double, action: String, target: String, provider: String, plan: String, sha: String,
            secretVersion: Int, status: Status = .open
        ) {
            self.id = id
            self.created = created
            self.expires = expires
            self.action = action
            self.target = target
            self.provider = provider
            self.plan = plan
            self.sha = sha
            self.secretVersion = secretVersion
            self.status = status
        }
    }

    /// Every read and write goes through GRDB's async API: it runs on GRDB's own serial queue while
    /// the caller is suspended, so SQLite (and its fsync) never blocks Swift's cooperative threads.
    private let database: DatabaseQueue

    /// The journal could not be opened: names the file and what SQLite said.
    public struct OpenError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot open the journal \(path) (agent.journal): \(reason)" }
    }

    /// What each entry's time is read from.
    let clock: any AgentClock

    /// Opens (creating when absent) the journal at `path`; `:memory:` for tests. Entries are
    /// timed on `clock` (calendar time).
    public init(path: String, clock: any AgentClock) throws {
        self.clock = clock
        do {
            database = path == ":memory:" ? try DatabaseQueue() : try DatabaseQueue(path: path)
            try Self.migrate(database)
        } catch {
            throw OpenError(path: path, reason: (error as? DatabaseError)?.message ?? "\(error)")
        }
    }

    private static func migrate(_ database: DatabaseQueue) throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "entry") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .double).notNull()
                t.column("kind", .text).notNull()
                t.column("target", .text)
                t.column("provider", .text)
                t.column("intent", .integer).indexed()
                t.column("detail", .text).notNull()
                t.column("done", .boolean).notNull().defaults(to: false)
            }
            try db.create(table: "proposal") { t in
                t.primaryKey("id", .text)
                t.column("created", .double).notNull()
                t.column("expires", .double).notNull()
                t.column("action", .text).notNull()
                t.column("target", .text).notNull()
                t.column("provider", .text).notNull()
                t.column("plan", .text).notNull()
                t.column("sha", .text).notNull()
                t.column("secretVersion", .integer).notNull()
                t.column("status", .text).notNull()
            }
        }
        try migrator.migrate(database)
    }

    /// Appends one entry; returns its id.
    @discardableResult
    public func record(
        _ kind: String, target: String? = nil, provider: String? = nil, intent: Int64? = nil, detail: String,
        at: Double? = nil
    ) async throws -> Int64 {
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO entry (at, kind, target, provider, intent, detail) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [at ?? clock.unixTime, kind, target, provider, intent, Secrets.scrub(detail)])
            return db.lastInsertedRowID
        }
    }

    /// Writes the intent to act before acting.
    public func beginIntent(_ action: String, target: String, provider: String, detail: String, at: Double? = nil)
        async throws -> Int64
    {
        try await record("intent:" + action, target: target, provider: provider, detail: detail, at: at)
    }

    /// Records a step of an intent as it happens (e.g. `vault-written`, `job-retried`).
    public func step(_ intent: Int64, _ name: String, detail: String = "", at: Double? = nil) async throws {
        try await record("step:" + name, intent: intent, detail: detail, at: at)
    }

    /// Marks an intent finished with its outcome.
    public func finish(_ intent: Int64, outcome: String, at: Double? = nil) async throws {
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO entry (at, kind, intent, detail) VALUES (?, 'result', ?, ?)",
                arguments: [at ?? clock.unixTime, intent, Secrets.scrub(outcome)])
            try db.execute(sql: "UPDATE entry SET done = 1 WHERE id = ?", arguments: [intent])
        }
    }

    /// Intents not marked done, oldest first, with their steps: what a restart must reconcile.
    public func openIntents() async throws -> [Intent] {
        try await database.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM entry WHERE kind LIKE 'intent:%' AND done = 0 ORDER BY id")
            return try rows.map { row in
                let id: Int64 = row["id"]
                let steps = try Row.fetchAll(
                    db, sql: "SELECT kind, detail FROM entry WHERE intent = ? AND kind LIKE 'step:%' ORDER BY id", arguments: [id])
                return Intent(
                    id: id, at: row["at"], action: String((row["kind"] as String).dropFirst("intent:".count)), target: row["target"] ?? "",
                    provider: row["provider"] ?? "", detail: row["detail"],
                    steps: steps.map { (String(($0["kind"] as String).dropFirst("step:".count)), $0["detail"]) })
            }
        }
    }

    /// The newest `limit` entries, oldest first.
    public func history(limit: Int = 100) async throws -> [Entry] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM (SELECT * FROM entry ORDER BY id DESC LIMIT ?) ORDER BY id", arguments: [limit]).map {
                Entry(
                    id: $0["id"], at: $0["at"], kind: $0["kind"], target: $0["target"], provider: $0["provider"], intent: $0["intent"],
                    detail: $0["detail"])
            }
        }
    }

    /// Per target, the time of the newest `kind` entry whose detail contains `text` (e.g. the
    /// last fire drill that succeeded).
    public func latest(_ kind: String, containing text: String) async throws -> [String: Double] {
        try await database.read { db in
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT target, MAX(at) AS at FROM entry WHERE kind = ? AND target IS NOT NULL AND instr(detail, ?) > 0 GROUP BY target",
                arguments: [kind, text])
            return Dictionary(rows.map { ($0["target"] as String, $0["at"] as Double) }, uniquingKeysWith: max)
        }
    }

    // MARK: - Proposals

    public func save(_ proposal: ProposalRecord) async throws {
        try await database.write { db in
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO proposal (id, created, expires, action, target, provider, plan, sha, secretVersion, status) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    proposal.id, proposal.created, proposal.expires, proposal.action, proposal.target, proposal.provider, proposal.plan,
                    proposal.sha, proposal.secretVersion, proposal.status.rawValue,
                ])
        }
    }

    public func proposal(_ id: String) async throws -> ProposalRecord? {
        try await database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM proposal WHERE id = ?", arguments: [id]).map(Self.proposal)
        }
    }

    /// Moves a proposal from `expected` to `status` atomically; false when it was not in `expected`
    /// (already approved, rejected, expired…), so one approval can never execute twice.
    public func transition(_ id: String, from expected: ProposalRecord.Status, to status: ProposalRecord.Status) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE proposal SET status = ? WHERE id = ? AND status = ?", arguments: [status.rawValue, id, expected.rawValue])
            return db.changesCount == 1
        }
    }

    public func openProposals() async throws -> [ProposalRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM proposal WHERE status = 'open' ORDER BY created").map(Self.proposal)
        }
    }

    private static func proposal(_ row: Row) -> ProposalRecord {
        ProposalRecord(
            id: row["id"], created: row["created"], expires: row["expires"], action: row["action"], target: row["target"],
            provider: row["provider"],
            plan: row["plan"], sha: row["sha"], secretVersion: row["secretVersion"],
            status: ProposalRecord.Status(rawValue: row["status"]) ?? .open)
    }
}
