using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// Picks each event's topic: the transform's <see cref="ChangeEvent.Destination"/> when set, else the template with
/// <c>{database}</c>, <c>{table}</c> and <c>{pipeline}</c> replaced. Characters Kafka does not allow in topic names
/// (anything but letters, digits, '.', '_' and '-') become '_'; names are cut to 249 characters. Not thread-safe.
/// </summary>
internal sealed class TopicNames
{
    private readonly string _template;
    private readonly string _pipeline;
    private readonly Dictionary<(string Database, string Table), string> _byTable = [];
    private readonly Dictionary<string, string> _byDestination = new(StringComparer.Ordinal);

    public TopicNames(string template, string pipeline)
    {
        _template = template;
        _pipeline = pipeline;
    }

    /// <summary>Checks a template: it must give a non-empty name.</summary>
    public static string? Validate(string template)
    {
        if (string.IsNullOrWhiteSpace(template)) return "must not be empty (e.g. \"{database}.{table}\")";
        var probe = template.Replace("{database}", "d").Replace("{table}", "t").Replace("{pipeline}", "p");
        if (probe.Contains('{') || probe.Contains('}')) return $"'{template}' has an unknown placeholder (known: {{database}}, {{table}}, {{pipeline}})";
        return null;
    }

    public string For(ChangeEvent e)
    {
        if (e.Destination is { Length: > 0 } destination)
        {
            if (!_byDestination.TryGetValue(destination, out var t)) _byDestination[destination] = t = Sanitize(destination);
            return t;
        }
        // Events of one table come in runs, their names the same strings: the last table's topic without hashing.
        if (ReferenceEquals(e.Database, _lastDatabase) && ReferenceEquals(e.Table, _lastTable)) return _lastTopic!;
        if (!_byTable.TryGetValue((e.Database, e.Table), out var topic))
        {
            topic = Sanitize(_template.Replace("{database}", e.Database).Replace("{table}", e.Table).Replace("{pipeline}", _pipeline));
            _byTable[(e.Database, e.Table)] = topic;
        }
        (_lastDatabase, _lastTable, _lastTopic) = (e.Database, e.Table, topic);
        return topic;
    }

    private string? _lastDatabase, _lastTable, _lastTopic;

    /// <summary>A legal Kafka topic name.</summary>
    public static string Sanitize(string name)
    {
        Span<char> buffer = name.Length <= 256 ? stackalloc char[name.Length] : new char[name.Length];
        var changed = false;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var ok = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '.' or '_' or '-';
            buffer[i] = ok ? c : '_';
            changed |= !ok;
        }
        var result = changed ? new string(buffer) : name;
        if (result.Length > 249) result = result[..249];
        return result is "" or "." or ".." ? "_" + result : result;
    }
}
