"""Administration screens (U, N, I, T): users, groups, numbers, IVRs, blacklist, tags, contacts."""
