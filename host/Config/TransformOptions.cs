namespace PluginHost.Config;

/// <summary>The mapping form of a pipeline's <c>transform:</c>: a chain of JavaScript rules (prensio contract).</summary>
internal sealed class TransformOptions
{
    /// <summary>Only <c>javascript</c> (the default).</summary>
    public string Language { get; set; } = "javascript";

    /// <summary>Run in order on matching events; the first <c>ACTION_DROP</c> stops the chain.</summary>
    public List<TransformRuleOptions> Rules { get; set; } = [];
}

/// <summary>One rule of <see cref="TransformOptions.Rules"/> (go-mysql-kafka's <c>[[transform_rule]]</c>).</summary>
internal sealed class TransformRuleOptions
{
    public string Name { get; set; } = "";

    /// <summary>Regular expression searched in the event's schema (empty: all).</summary>
    public string MatchSchema { get; set; } = "";

    /// <summary>Regular expression searched in the event's table (empty: all).</summary>
    public string MatchTable { get; set; } = "";

    /// <summary>The script file (resolved like <c>transform: NAME.js</c>); or <see cref="Script"/>.</summary>
    public string? File { get; set; }

    /// <summary>Inline JavaScript source; or <see cref="File"/>.</summary>
    public string? Script { get; set; }
}
