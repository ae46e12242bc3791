namespace PluginHost.Tests.Support;

/// <summary>How a column's value is checked against SELECT output (through the event-JSON rules).</summary>
public enum CheckKind { Number, BitOrYear, Float, Double, Decimal, Text, Binary, Temporal, Timestamp, Enum, Set }
