using System.Runtime.CompilerServices;

// The network tests drive internals directly (PDU reader limits, negotiation policy) with hand-made byte streams.
[assembly: InternalsVisibleTo("Kaapana.Tests")]
