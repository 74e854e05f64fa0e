import ControlAPI
import GitLabClient
import Lifecycle

extension TargetExecutor {
    /// Every readiness check of the target, now (`now`: Unix time). Reads only.
    public func readiness(now: Double) async -> [ReadinessCheck] {
        var checks = [await vaultCheck(now: now)]
        let gitlab = redeployer.gitlab
        var user: (id: Int, username: String, bot: Bool)?
        do {
            let token = try await gitlab.tokenSelf()
            let found = try await gitlab.currentUser()
            user = found
            let level = try await gitlab.accessLevel(of: token.userID)
            let environment = target.gitlab.environment
            var least: Int?
            if let environment { least = try await gitlab.protectedEnvironment(environment) }
            checks.append(
                Readiness.gitlab(
                    .init(
                        token: token, bot: found.bot, level: level, expedited: target.gitlab.expedited, project: target.gitlab.project,
                        environment: environment, environmentLeast: least), now: now))
        } catch {
            checks.append(ReadinessCheck(.gitlab, ready: false, "\(error)"))
        }
        checks.append(await downstreamCheck(user))
        if let settings = target.changeRequest {
            do throws(ControlError) {
                guard let user else { throw .unavailable("the token's user is unknown (see the gitlab check)") }
                let level = try await gitlab.accessLevel(of: user.id, in: settings.project)
                checks.append(Readiness.changeRequest(project: settings.project, level: level, user: user.username))
            } catch { checks.append(ReadinessCheck(.changeRequest, ready: false, "\(error)")) }
        }
        do {
            let planned = try await redeployer.preflight()
            checks.append(ReadinessCheck(.deployJob, ready: true, planned.decision.reason))
        } catch { checks.append(ReadinessCheck(.deployJob, ready: false, "\(error)")) }
        if let gateway {
            var problems: [String] = []
            for (index, url) in gateway.settings.urls.enumerated() {
                do { _ = try await gateway.definitions(at: index) } catch { problems.append("\(url): \(error)") }
            }
            checks.append(
                ReadinessCheck(
                    .gateway, ready: problems.isEmpty,
                    problems.isEmpty
                        ? "\(gateway.settings.urls.count) URL(s) answer /v1/models/definitions" : problems.joined(separator: "; ")))
        }
        return checks
    }

    /// The checks `kind` needs that fail now (``Readiness/needed(_:_:)``): while any does, the
    /// action writes nothing.
    public func unready(for kind: ActionKind, now: Double) async -> [ReadinessCheck] {
        let needed = Readiness.needed(kind, target)
        return await readiness(now: now).filter { needed.contains($0.name) && !$0.ready }
    }

    private func vaultCheck(now: Double) async -> ReadinessCheck {
        do {
            let ttl = try await vault.tokenTTL()
            let (data, metadata) = try await vault.capabilities()
            let exists = try await vault.read().version > 0
            return Readiness.vault(
                ttl: ttl, data: data, metadata: metadata, mount: target.vault.mount, path: target.vault.path, exists: exists,
                renewsByLogin: vault.session != nil, now: now)
        } catch { return ReadinessCheck(.vault, ready: false, "\(error)") }
    }

    /// The downstream project as the deploy job's last run shows it, and the user's rights there.
    private func downstreamCheck(_ user: (id: Int, username: String, bot: Bool)?) async -> ReadinessCheck {
        let gitlab = redeployer.gitlab
        do throws(ControlError) {
            guard let user else { throw .unavailable("the token's user is unknown (see the gitlab check)") }
            let pipeline = try await gitlab.latestPipeline()
            let job = try await gitlab.deployJob(pipeline: pipeline.id)
            guard let downstream = job.downstream, let project = downstream.projectID.map(String.init) else {
                return Readiness.downstream(project: nil, branch: nil, level: 0, branchLeast: nil, bot: user.bot, user: user.username)
            }
            let level = try await gitlab.accessLevel(of: user.id, in: project)
            guard level > 0 else {
                return Readiness.downstream(project: project, branch: nil, level: 0, branchLeast: nil, bot: user.bot, user: user.username)
            }
            let branch = try await gitlab.pipelineRef(downstream.id, in: project)
            let least = try await gitlab.protectedBranch(branch, in: project)
            return Readiness.downstream(
                project: project, branch: branch, level: level, branchLeast: least, bot: user.bot, user: user.username)
        } catch { return ReadinessCheck(.downstream, ready: false, "\(error)") }
    }
}
