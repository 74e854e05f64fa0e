import YAMLConfig

/// The top level of the agent's configuration file and its `catalog` section; the other sections
/// are declared beside their loaders.
enum ConfigurationSchema {
    enum Catalog {
        static let models: Field<String> = .path("models", "the gateway's `models.yml` (model id → provider, family, selectability)")
        static let unitPrimitives: Field<String> = .path(
            "unit_primitives", "the gateway's `unit_primitives.yml` (feature → default and selectable models)")
        static let providersSection = ConfigSection(
            "catalog.providers", "Corrections: the provider of a model the catalog names wrongly or not at all.",
            entries: .init(key: "a model id of models.yml; its value is a provider (`bedrock`, `vertex`, `anthropic`, …)"))
        static let providers: Field<YAMLFields?> = .section(
            "providers", providersSection, "a model's provider where the catalog's is wrong (checked against models.yml)")
        static let prefer: Field<[String]?> = .strings(
            "prefer", none: AgentConfiguration.CatalogFiles.defaultPrefer.joined(separator: ", "),
            "providers in the order a replacement is chosen from")
    }

    static let catalogSection = ConfigSection(
        "catalog", "The gateway's catalog files, read as the gateway reads them (paths relative to this file).", Catalog.models,
        Catalog.unitPrimitives, Catalog.providers, Catalog.prefer)

    static let policy: Field<YAMLFields?> = .section("policy", PolicyLoader.section, "the health machine's thresholds")
    static let catalog: Field<YAMLFields?> = .section(
        "catalog", catalogSection, "the gateway's catalog (needed by targets and model_probes)")
    static let targets: Field<[YAMLFields]> = .list("targets", TargetLoader.section, "the gateway deployments the agent manages")
    static let caBundle: Field<String?> = .optionalPath("ca_bundle", "a PEM bundle for Vault and GitLab TLS instead of the system's")
    static let agent: Field<YAMLFields?> = .section("agent", AgentLoader.section, "how `run` works: probes, journal, API, limits")
    static let pagers: Field<[YAMLFields]> = .list("pagers", AgentLoader.pagerSection, "where proposals and outcomes are paged")
    static let modelProbes: Field<YAMLFields?> = .section(
        "model_probes", ModelProbesLoader.section, "derive probes from the catalog, per provider (none: only `agent.probes` specs)")

    static let section = ConfigSection(
        "(top level)", "The agent's configuration file (`--config`, default `failover-agent.yml`).", policy, catalog, targets, caBundle,
        agent, pagers, modelProbes)
}
