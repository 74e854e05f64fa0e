import Foundation
import KubernetesClient
import Leadership
import Logging
import Synchronization
import Timekeeping

/// Keeps (or waits for) the shared Lease: every `retry_period` it reads the Lease, then renews,
/// creates or takes it over as ``LeaseElector`` says. ``isLeader`` is safe to ask from anywhere,
/// at any moment, e.g. right before a side effect.
public final class LeaderElection: Sendable {
    private let elector: Mutex<LeaseElector>
    private let leases: KubernetesLeases
    private let clock: any AgentClock
    private let logger: Logger
    private let observers = Mutex<[@Sendable () -> Void]>([])

    /// Every `retry_period` and every renew deadline is on `clock`.
    public init(leases: KubernetesLeases, logger: Logger, clock: any AgentClock) {
        self.leases = leases
        self.logger = logger
        self.clock = clock
        elector = Mutex(LeaseElector(settings: leases.settings.election))
    }

    private var now: Double { clock.seconds }

    /// True while this replica holds the Lease and renewed it within the renew deadline.
    public var isLeader: Bool {
        let now = now
        return elector.withLock { $0.isLeader(at: now) }
    }

    /// The Lease annotation with the holder's API address, where followers forward what only the leader may do.
    public static let addressKey = "failover-agent/api"
    /// The Lease annotation with the leader's pause, so followers show it and a new leader keeps it.
    public static let pausedKey = "failover-agent/paused"

    /// Shares `value` under `key` in the Lease from this replica's next acquire or renew on.
    public func publish(_ key: String, _ value: String?) {
        elector.withLock { $0.published[key] = value }
    }

    /// What the current holder shares in the Lease; nil when no one holds it.
    public var leaderAnnotations: [String: String]? {
        elector.withLock { elector in
            guard let record = elector.observed, let holder = record.holder, !holder.isEmpty else { return nil }
            return record.annotations
        }
    }

    /// The holder's API address while another replica leads.
    public var leaderAddress: String? {
        let now = now
        return elector.withLock { elector in
            guard !elector.isLeader(at: now), let record = elector.observed, let holder = record.holder, !holder.isEmpty,
                holder != elector.settings.identity
            else { return nil }
            return record.annotations[Self.addressKey]
        }
    }

    /// Calls `body` after every read of the Lease (each `retry_period`): who leads, and the
    /// leader's pause, may have changed.
    public func afterEachStep(_ body: @escaping @Sendable () -> Void) { observers.withLock { $0.append(body) } }

    /// Raised by ``stop()``: the campaign ends and the Lease is released.
    public let stopRequest = StopSignal()

    /// A graceful stop (SIGTERM): ``run()`` ends within `retry_period` and releases the Lease.
    public func stop() { stopRequest.raise() }

    /// Campaigns and renews until ``stop()`` (then releases the Lease) or until cancelled (then
    /// the Lease is left to expire).
    public func run() async {
        var wasLeader = false
        while !Task.isCancelled && !stopRequest.isRaised {
            await step()
            for observer in observers.withLock({ $0 }) { observer() }
            let leader = isLeader
            if leader != wasLeader {
                logger.notice(
                    leader
                        ? "leader: holding lease \(leases.settings.namespace)/\(leases.settings.name) as \(leases.settings.identity)"
                        : "not the leader any more: acting on nothing"
                )
                wasLeader = leader
            }
            try? await clock.sleep(for: .milliseconds(Int64(leases.settings.election.retryPeriod * 1000)))
        }
        guard let release = elector.withLock({ $0.release(wallTime: Self.wallTime(clock.unixTime)) }) else { return }
        let settings = leases.settings.election
        elector.withLock { $0 = LeaseElector(settings: settings) }  // no longer the leader, from now on
        guard !Task.isCancelled else { return }
        if await released(release, settings: settings) {
            logger.notice("released lease \(leases.settings.namespace)/\(leases.settings.name)")
        }
    }

    private func released(_ release: LeaseRecord, settings: LeaseElector.Settings) async -> Bool {
        if (try? await leases.update(release)) != nil { return true }
        // A renew in flight when the stop came may have moved the Lease on (a newer
        // resourceVersion): read it again and release what this replica still holds.
        guard let current = try? await leases.get() else { return false }
        var fresh = LeaseElector(settings: settings)
        fresh.observe(current, at: 0)
        guard let again = fresh.release(wallTime: Self.wallTime(clock.unixTime)) else { return false }
        return (try? await leases.update(again)) != nil
    }

    /// One read and, when due, one write.
    func step() async {
        do {
            let record = try await leases.get()
            let request = elector.withLock { elector in
                elector.observe(record, at: now)
                return elector.next(at: now, wallTime: Self.wallTime(clock.unixTime))
            }
            let written: LeaseRecord?
            switch request {
            case .wait: return
            case .create(let lease): written = try await leases.create(lease)
            case .update(let lease): written = try await leases.update(lease)
            }
            if let written { elector.withLock { $0.succeeded(written, at: now) } }
        } catch {
            logger.warning("lease \(leases.settings.namespace)/\(leases.settings.name): \(error)")
        }
    }

    /// `seconds` (Unix time, from the clock) as a Kubernetes MicroTime: `2026-11-25T14:03:07.123456Z`.
    static func wallTime(_ seconds: Double) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let micros = Int((seconds - seconds.rounded(.down)) * 1_000_000)
        func pad(_ value: Int32, _ width: Int) -> String {
            String(repeating: "0", count: max(0, width - String(value).count)) + String(value)
        }
        return
            "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(micros), 6))Z"
    }
}
