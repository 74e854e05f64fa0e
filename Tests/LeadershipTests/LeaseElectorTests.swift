import Leadership
import Testing

/// The elector on a virtual clock: observations in, requests out.
@Suite struct LeaseElectorTests {
    let settings = LeaseElector.Settings(identity: "a", leaseDuration: 15, renewDeadline: 10, retryPeriod: 2)

    @Test func noLeaseIsCreatedThenRenewed() {
        var elector = LeaseElector(settings: settings)
        elector.observe(nil, at: 0)
        guard case .create(let lease) = elector.next(at: 0, wallTime: "t0") else {
            Issue.record("expected create")
            return
        }
        #expect(lease.holder == "a" && lease.durationSeconds == 15 && lease.acquireTime == "t0")
        #expect(!elector.isLeader(at: 0), "not before the server accepted it")
        var stored = lease
        stored.resourceVersion = "1"
        elector.succeeded(stored, at: 0.1)
        #expect(elector.isLeader(at: 0.2))
        elector.observe(stored, at: 2)
        guard case .update(let renewal) = elector.next(at: 2, wallTime: "t2") else {
            Issue.record("expected renew")
            return
        }
        #expect(
            renewal.holder == "a" && renewal.renewTime == "t2" && renewal.acquireTime == "t0" && renewal.resourceVersion == "1"
                && renewal.transitions == 0)
    }

    @Test func aLiveHolderIsLeftAloneAndAStaleOneTakenOver() {
        var elector = LeaseElector(settings: settings)
        let held = LeaseRecord(holder: "b", durationSeconds: 15, renewTime: "x", transitions: 3, resourceVersion: "7")
        elector.observe(held, at: 100)
        #expect(elector.next(at: 100, wallTime: "w") == .wait)
        elector.observe(held, at: 114)
        #expect(elector.next(at: 114.9, wallTime: "w") == .wait, "15 s since the record was last seen to change")
        var renewed = held
        renewed.resourceVersion = "8"
        elector.observe(renewed, at: 114.9)  // b renewed: the clock starts again
        #expect(elector.next(at: 129, wallTime: "w") == .wait)
        elector.observe(renewed, at: 130)
        guard case .update(let takeover) = elector.next(at: 130, wallTime: "w") else {
            Issue.record("expected a takeover")
            return
        }
        #expect(takeover.holder == "a" && takeover.transitions == 4 && takeover.resourceVersion == "8" && takeover.acquireTime == "w")
        #expect(!elector.isLeader(at: 130))
    }

    @Test func whatTheHolderSharesIsWrittenWithItsHoldsAndTheRestIsKept() {
        var elector = LeaseElector(settings: settings)
        elector.published = ["api": "http://10.0.0.1:9464"]
        let held = LeaseRecord(
            holder: "b", durationSeconds: 15, resourceVersion: "7", annotations: ["api": "http://10.0.0.2:9464", "paused": "true"])
        elector.observe(held, at: 0)
        #expect(elector.next(at: 1, wallTime: "w") == .wait)
        elector.observe(held, at: 15)
        guard case .update(let takeover) = elector.next(at: 15, wallTime: "w") else {
            Issue.record("expected a takeover")
            return
        }
        #expect(
            takeover.annotations == ["api": "http://10.0.0.1:9464", "paused": "true"], "its own address; the last holder's pause stays")
        elector.succeeded(takeover, at: 15.1)
        elector.published["paused"] = "false"
        elector.observe(takeover, at: 17)
        guard case .update(let renewal) = elector.next(at: 17, wallTime: "w2") else {
            Issue.record("expected a renewal")
            return
        }
        #expect(renewal.annotations == ["api": "http://10.0.0.1:9464", "paused": "false"])
        var fresh = LeaseElector(settings: settings)
        fresh.published = ["api": "x"]
        fresh.observe(nil, at: 0)
        guard case .create(let created) = fresh.next(at: 0, wallTime: "w") else {
            Issue.record("expected create")
            return
        }
        #expect(created.annotations == ["api": "x"])
    }

    @Test func aReleasedLeaseIsTakenAtOnce() {
        var elector = LeaseElector(settings: settings)
        elector.observe(LeaseRecord(holder: nil, durationSeconds: 15, resourceVersion: "2"), at: 5)
        guard case .update(let lease) = elector.next(at: 5, wallTime: "w") else {
            Issue.record("expected acquire")
            return
        }
        #expect(lease.holder == "a")
    }

    @Test func aLeaderThatCannotRenewStopsBeforeAnyoneMayTakeOver() {
        var leader = LeaseElector(settings: settings)
        var stored = LeaseRecord(holder: "a", durationSeconds: 15, resourceVersion: "1")
        leader.succeeded(stored, at: 0)
        // Partition: no more renewals. The other replica saw version 1 at time 0 at the earliest.
        var other = LeaseElector(settings: LeaseElector.Settings(identity: "b", leaseDuration: 15, renewDeadline: 10, retryPeriod: 2))
        other.observe(stored, at: 0)
        for t in stride(from: 0.0, through: 30, by: 0.5) {
            other.observe(stored, at: t)
            let taking = other.next(at: t, wallTime: "w") != .wait
            #expect(!(leader.isLeader(at: t) && taking), "at \(t) s both would act")
            if t < 10 { #expect(leader.isLeader(at: t)) } else { #expect(!leader.isLeader(at: t)) }
            if taking { #expect(t >= 15) }
        }
        stored.holder = "b"
        leader.observe(stored, at: 31)
        #expect(!leader.isLeader(at: 31))
        #expect(leader.release(wallTime: "w") == nil, "only the holder releases")
    }
}
