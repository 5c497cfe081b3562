"""rendao (人道): the platform of a city Red Cross society."""
