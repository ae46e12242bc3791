using PluginHost.Sdk;

namespace PluginHost.Snapshots;

/// <summary>What one chunk read.</summary>
/// <param name="Rows">Rows read.</param>
/// <param name="LastKey">The chunk key of the last row (null when no row, or a keyless table): the next chunk starts after it.</param>
/// <param name="IsExhausted">True when the table (under the <c>where</c>) has no rows after this chunk.</param>
/// <param name="Position">The binlog position the rows are consistent with: exact (consistent snapshot), or the high
/// watermark (taken after the SELECT).</param>
/// <param name="LowWatermark">The binlog position before the SELECT; equal to <paramref name="Position"/> when it is exact.</param>
internal sealed record ChunkResult(int Rows, SnapshotKey? LastKey, bool IsExhausted, SnapshotPosition Position, SnapshotPosition LowWatermark);

/// <summary>A chunk read whole: its events and its <see cref="ChunkResult"/>.</summary>
internal sealed record SnapshotChunk(IReadOnlyList<ChangeEvent> Events, ChunkResult Result);
