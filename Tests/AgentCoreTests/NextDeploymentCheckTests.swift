import Lifecycle
import Testing

/// A restore left to the next deployment: a check that finds none yet checks again until the deadline, then gives up.
@Suite struct NextDeploymentCheckTests {
    let awaited = AwaitedDeployment(expect: ["duo_chat": ["claude_sonnet_4_6"]], since: 7, changeRequest: 12, deadline: .seconds(3600))

    @Test func noDeploymentYetIsCheckedAgainUntilTheDeadline() {
        #expect(awaited.undeployed(at: .seconds(10), poll: 30, timeout: .seconds(3600)) == .notYet(checkAgainIn: 30))
        #expect(awaited.undeployed(at: .seconds(3599), poll: 30, timeout: .seconds(3600)) == .notYet(checkAgainIn: 30))
        guard case .notVerified(let why) = awaited.undeployed(at: .seconds(3600), poll: 30, timeout: .seconds(3600)) else {
            Issue.record("at the deadline, a restore no deployment carried is not verified")
            return
        }
        #expect(why.hasPrefix("no deployment succeeded within 3600.0 seconds of the restore"))
    }
}
