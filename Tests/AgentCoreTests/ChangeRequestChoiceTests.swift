import Lifecycle
import Testing

/// One incident, one change request: which one a failover goes on in.
@Suite struct ChangeRequestChoiceTests {
    @Test func itsOwnRecordedOneComesFirstThenTheGroupsThenTheSearch() {
        #expect(ChangeRequestChoice(recorded: 12, group: 9) == .carryOn(12), "an earlier attempt of this target opened it")
        #expect(ChangeRequestChoice(recorded: 12, group: nil) == .carryOn(12))
        #expect(ChangeRequestChoice(recorded: nil, group: 9) == .group(9), "an earlier member of the group opened it")
        #expect(ChangeRequestChoice(recorded: nil, group: nil) == .findOrOpen)
    }
}
