// Struct types (Statns, Dirent, …) used by Generated/CActions.swift.
@_exported import GuestfsProtocol
