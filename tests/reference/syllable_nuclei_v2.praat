# Syllable nuclei after de Jong & Wempe (2009, Behavior Research Methods 41(2)), with the settings of the
# script's version 2 (Quene et al. 2010: the threshold from the 0.99 quantile of the intensity).
#
# The test oracle of clapemo.features.syllables.syllable_nuclei: written for this project from the published
# description of the algorithm and its v2 settings, in Praat's own commands, so that the Python port can be
# checked against Praat running the method itself. Run it on one selected Sound, e.g.
#     parselmouth.praat.run(sound, script_text, -25, 2, 0.3, return_variables=True)
# and read the variables nsyll, npause, phonation_s, duration_s, threshold_db, ncandidates, nvalid.
#
# Where the published script has no answer (it stops with an error when no intensity maximum reaches the
# threshold), this one reports 0 syllables.

form Syllable nuclei (de Jong & Wempe v2)
    real silencedb -25
    positive mindip 2
    positive minpause 0.3
endform

sound = selected ("Sound")
duration_s = Get total duration

# 1. intensity contour (minimum pitch 50 Hz, automatic time step, mean subtracted) and the threshold
intensity = To Intensity: 50, 0, "yes"
minint = Get minimum: 0, 0, "parabolic"
maxint = Get maximum: 0, 0, "parabolic"
q99 = Get quantile: 0, 0, 0.99
threshold_db = q99 + silencedb
if threshold_db < minint
    threshold_db = minint
endif

# 2. pauses: silences of at least minpause, sounding stretches of at least 0.1 s; the silence threshold of
#    "To TextGrid (silences)" is relative to the maximum, so this is the same level as threshold_db
textgrid = To TextGrid (silences): silencedb - (maxint - q99), minpause, 0.1, "silent", "sounding"
nintervals = Get number of intervals: 1
nsounding = 0
phonation_s = 0
for interval to nintervals
    label$ = Get label of interval: 1, interval
    if label$ = "sounding"
        nsounding += 1
        interval_start = Get start time of interval: 1, interval
        interval_end = Get end time of interval: 1, interval
        phonation_s += interval_end - interval_start
    endif
endfor
npause = nsounding - 1

# 3. candidate peaks: the maxima of the intensity contour (as a one-channel sound) that exceed the threshold
selectObject: intensity
matrix = Down to Matrix
contour = To Sound (slice): 1
extrema = To PointProcess (extrema): "Left", "yes", "no", "sinc70"
nextrema = Get number of points
for point to nextrema
    extremum_time[point] = Get time from index: point
endfor
selectObject: contour
ncandidates = 0
for point to nextrema
    value = Get value at time: 0, extremum_time[point], "cubic"
    if value > threshold_db
        ncandidates += 1
        candidate_time[ncandidates] = extremum_time[point]
        candidate_db[ncandidates] = value
    endif
endfor

# 4. the dip rule: a candidate is valid when the intensity falls by more than mindip between it and the next
#    candidate; the loop stops one short of the last candidate, which is therefore never valid
nvalid = 0
if ncandidates > 0
    selectObject: intensity
    current_time = candidate_time[1]
    current_db = candidate_db[1]
    for candidate to ncandidates - 1
        next_time = candidate_time[candidate + 1]
        dip = Get minimum: current_time, next_time, "none"
        if abs (current_db - dip) > mindip
            nvalid += 1
            valid_time[nvalid] = candidate_time[candidate]
        endif
        # the next comparison starts from the next candidate, read from the intensity itself (not the contour)
        current_time = next_time
        current_db = Get value at time: next_time, "cubic"
    endfor
endif

# 5. voicing: a valid candidate is a nucleus when the script's own pitch track is voiced there and it lies in
#    a sounding interval
selectObject: sound
pitch = To Pitch (ac): 0.02, 30, 4, "no", 0.03, 0.25, 0.01, 0.35, 0.25, 450
nsyll = 0
for candidate to nvalid
    selectObject: textgrid
    interval = Get interval at time: 1, valid_time[candidate]
    label$ = Get label of interval: 1, interval
    selectObject: pitch
    f0 = Get value at time: valid_time[candidate], "Hertz", "linear"
    if f0 <> undefined and label$ = "sounding"
        nsyll += 1
    endif
endfor

removeObject: matrix, contour, extrema
selectObject: textgrid
