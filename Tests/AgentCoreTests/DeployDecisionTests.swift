import Lifecycle
import Testing

/// Which deploy carries a written override while `main` moves, case by case (pure).
struct DeployDecisionTests {
    typealias Candidate = DeployFacts.Candidate
    static let name = "🛫 [ai-gateway] Trigger runway deployment production"

    func pipeline(_ id: Int, _ status: String?, downstream: String? = nil) -> Candidate {
        Candidate(
            pipeline: id, sha: "sha\(id)",
            trigger: status.map { DeployFacts.Trigger(job: id * 10, name: Self.name, status: $0, downstream: downstream) })
    }

    func decide(production: Int?, _ pipelines: [Candidate], startedBeforeWrite: Set<Int>? = nil) -> DeployDecision {
        DeployDecision.decide(
            DeployFacts(production: production.map { .init(sha: "sha\($0)", pipeline: $0) }, pipelines: pipelines),
            startedBeforeWrite: startedBeforeWrite)
    }

    @Test func theHeadIsWhatProductionRuns() {
        let decision = decide(production: 7, [pipeline(7, "success", downstream: "success")])
        guard case .retry(let candidate, let why) = decision else {
            Issue.record("\(decision)")
            return
        }
        #expect(candidate.pipeline == 7 && why.contains("the newest pipeline of the branch"))
    }

    @Test func aNewerDeployThatHasNotStartedIsFollowed() {
        for status in ["created", "pending", "waiting_for_resource", nil] {
            let decision = decide(production: 7, [pipeline(8, status), pipeline(7, "success", downstream: "success")])
            guard case .follow(let candidate, _) = decision else {
                Issue.record("\(String(describing: status)): \(decision)")
                return
            }
            #expect(candidate.pipeline == 8, "never a retry of #7 while #8 is pending")
        }
    }

    /// Production's own trigger retried (by an attempt that crashed before journaling it) and not
    /// started: that deploy reads the written secret; a second retry would be a second deploy.
    /// Found by `simulate` (seed 852: a crash right after the retry while `main`'s newer deploy fails).
    @Test func productionsTriggerRetriedAndNotStartedIsFollowedNotRetriedAgain() {
        for status in ["created", "pending", "waiting_for_resource"] {
            let decision = decide(production: 7, [pipeline(9, "failed", downstream: "failed"), pipeline(7, status)])
            guard case .follow(let candidate, let why) = decision else {
                Issue.record("\(status): \(decision)")
                return
            }
            #expect(candidate.pipeline == 7 && why.contains("was retried and has not started"))
        }
    }

    @Test func aNewerDeployRunningIsWaitedForThenRetried() {
        let running = decide(production: 7, [pipeline(8, "success", downstream: "running"), pipeline(7, "success", downstream: "success")])
        guard case .wait(let candidate, _) = running else {
            Issue.record("\(running)")
            return
        }
        #expect(candidate.pipeline == 8)
        // It ended: it is what production runs now, and it is retried.
        let ended = decide(production: 8, [pipeline(8, "success", downstream: "success"), pipeline(7, "success", downstream: "success")])
        guard case .retry(let next, _) = ended else {
            Issue.record("\(ended)")
            return
        }
        #expect(next.pipeline == 8)
    }

    @Test func aDeployThatStartedAfterTheWriteIsFollowedNotWaitedFor() {
        let decision = decide(
            production: 7, [pipeline(8, "running"), pipeline(7, "success", downstream: "success")], startedBeforeWrite: [7])
        guard case .follow(let candidate, let why) = decision else {
            Issue.record("\(decision)")
            return
        }
        #expect(candidate.pipeline == 8 && why.contains("started after the write"))
    }

    @Test func manualProductionDeploysRetryWhatProductionRunsAndNeverPlay() {
        let decision = decide(production: 7, [pipeline(9, "manual"), pipeline(8, "manual"), pipeline(7, "success", downstream: "success")])
        guard case .retry(let candidate, let why) = decision else {
            Issue.record("\(decision)")
            return
        }
        #expect(candidate.pipeline == 7 && why.contains("waits for a person (manual)") && why.contains("never playing"))
    }

    @Test func aNewerDeployThatFailedFallsBackToWhatProductionRunsAndSaysSo() {
        let decision = decide(production: 7, [pipeline(8, "success", downstream: "failed"), pipeline(7, "success", downstream: "success")])
        guard case .retry(let candidate, let why) = decision else {
            Issue.record("\(decision)")
            return
        }
        #expect(candidate.pipeline == 7 && why.contains("newer pipeline #8's production deploy"))
    }

    @Test func unknownProductionOrAnUnretryableTriggerIsRefused() {
        guard case .refuse(let none) = decide(production: nil, [pipeline(8, "manual")]) else {
            Issue.record("refused")
            return
        }
        #expect(none.contains("what production runs is unknown"))
        guard case .refuse(let old) = decide(production: 3, [pipeline(8, "success")]) else {
            Issue.record("refused")
            return
        }
        #expect(old.contains("which no pipeline of the deploy branch's last ones built"))
        guard case .refuse(let skipped) = decide(production: 7, [pipeline(7, "skipped")]) else {
            Issue.record("refused")
            return
        }
        #expect(skipped.contains("cannot be retried"))
    }

    @Test func withoutAnEnvironmentProductionIsTheNewestSuccessfulDeploy() {
        let decision = decide(production: nil, [pipeline(9, "manual"), pipeline(8, "success", downstream: "success")])
        guard case .retry(let candidate, _) = decision else {
            Issue.record("\(decision)")
            return
        }
        #expect(candidate.pipeline == 8)
    }
}
