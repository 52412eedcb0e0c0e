using System.Text.Json.Serialization;
using Kaapana.Core.Archive.Index;

namespace Kaapana.Core.Workflows.Events;

/// <summary>Something that happened to a run, as the engine saw it; published on <see cref="RunEvents"/>.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(ItemStateChanged), "itemState")]
[JsonDerivedType(typeof(RunStateChanged), "runState")]
[JsonDerivedType(typeof(ItemLogLine), "log")]
public abstract record RunEvent(long RunId);

/// <summary>An item entered <paramref name="State"/> (Running on claim, its outcome at the end, Queued again on retry or cancel).</summary>
public sealed record ItemStateChanged(long RunId, long ItemId, WorkState State, int Attempt, long? ExitCode = null, string? Error = null) : RunEvent(RunId);

/// <summary>The run's rolled-up state after a change to any of its items.</summary>
public sealed record RunStateChanged(long RunId, WorkState State) : RunEvent(RunId);

/// <summary>One line of an item's container output, as the executor receives it (before the log file's size limit applies).</summary>
public sealed record ItemLogLine(long RunId, long ItemId, int Attempt, bool Stderr, string Text) : RunEvent(RunId);
