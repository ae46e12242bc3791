using System.Text;

namespace PluginHost.Cluster;

/// <summary>
/// Places pipelines in slots, the same on every node: a pipeline's home slot is a stable hash (FNV-1a of its name's
/// UTF-8) modulo the slot count; while there are free slots, a pipeline whose home is taken goes to the next free one
/// (names in order), so up to <c>slots</c> pipelines get a slot each and the group's even spread of slots is an even
/// spread of pipelines.
/// </summary>
internal static class SlotMap
{
    public static Dictionary<string, int> Place(IEnumerable<string> pipelines, int slots)
    {
        var names = pipelines.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        var taken = new bool[slots];
        var free = slots;
        // Homes first (a pipeline in its home slot never moves for another), then the rest by probing.
        var later = new List<string>();
        foreach (var n in names)
        {
            var home = Home(n, slots);
            if (!taken[home]) { taken[home] = true; free--; result[n] = home; }
            else later.Add(n);
        }
        foreach (var n in later)
        {
            var s = Home(n, slots);
            if (free > 0)
            {
                while (taken[s]) s = (s + 1) % slots;
                taken[s] = true;
                free--;
            }
            result[n] = s;
        }
        return result;
    }

    public static int Home(string pipeline, int slots)
    {
        var h = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(pipeline)) h = (h ^ b) * 16777619u;
        return (int)(h % (uint)slots);
    }
}
